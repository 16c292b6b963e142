import Foundation
import FlyingFox
import FlyingSocks
import InftopTelemetry

/// Where `/metrics` listens: `HOST:PORT` (IPv4), loopback unless the user asked otherwise.
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public static let defaultText = "127.0.0.1:9464"

    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// Parses `HOST:PORT`, `:PORT` (loopback) or `PORT`; `allowPublic` must be true for a host
    /// other than 127.x.x.x / localhost (`--metrics-public`).
    /// - Throws: `ExportError.invalid` with one line saying what is wrong.
    public static func parse(_ text: String, allowPublic: Bool) throws -> MetricsAddress {
        let t = text.isEmpty ? defaultText : text
        var host = "127.0.0.1", portText = t
        if let colon = t.lastIndex(of: ":") {
            host = String(t[..<colon]); portText = String(t[t.index(after: colon)...])
            if host.isEmpty { host = "127.0.0.1" }
            if host == "localhost" { host = "127.0.0.1" }
        }
        guard let port = UInt16(portText), port > 0 else {
            throw ExportError.invalid("--metrics \(text): the port must be 1…65535 (e.g. \(defaultText))")
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else {
            throw ExportError.invalid("--metrics \(text): the host must be an IPv4 address such as 127.0.0.1")
        }
        let a = MetricsAddress(host: host, port: port)
        if !a.isLoopback && !allowPublic {
            throw ExportError.invalid("--metrics \(text): not a loopback address; add --metrics-public to listen on \(host)")
        }
        return a
    }

    public var isLoopback: Bool { host.hasPrefix("127.") }
    public var description: String { "\(host):\(port)" }
}

/// A FlyingFox HTTP server answering `GET /metrics` with `render()` (text exposition format
/// 0.0.4) and `GET /` with a one-line pointer. Runs on Swift concurrency's threads, off the
/// workload and UI threads.
public final class MetricsServer: @unchecked Sendable {
    public let address: MetricsAddress
    private let server: HTTPServer
    private var task: Task<Void, any Error>?

    /// - Parameter render: the exposition text's bytes, made at each `GET /metrics`.
    public init(address: MetricsAddress, render: @escaping @Sendable () -> [UInt8]) throws {
        self.address = address
        let sock = try sockaddr_in.inet(ip4: address.host, port: address.port)
        server = HTTPServer(address: sock, timeout: 15, logger: .disabled)
        let s = server
        let ready = DispatchSemaphore(value: 0)
        Task {
            await s.appendRoute("GET /metrics") { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                             body: Data(render()))
            }
            await s.appendRoute("GET /") { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                             body: Data("inftop: metrics at /metrics\n".utf8))
            }
            ready.signal()
        }
        ready.wait()
    }

    /// Binds and starts serving; returns once listening.
    /// - Throws: `ExportError.io` (e.g. the address is in use) within `timeoutSeconds`.
    public func start(timeoutSeconds: Double = 5) throws {
        let s = server
        let result = Locked<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        task = Task {
            do { try await s.run() } catch {
                result.withLock { $0 = Self.describe(error) }
                done.signal()
                throw error
            }
        }
        Task {
            try? await s.waitUntilListening(timeout: timeoutSeconds)
            done.signal()
        }
        if done.wait(timeout: .now() + timeoutSeconds + 1) == .timedOut {
            throw ExportError.io(path: address.description, reason: "could not start listening within \(Int(timeoutSeconds)) s")
        }
        // Either listening, or run() failed first (then waitUntilListening also ends).
        usleep(20_000)
        if let why = result.withLock({ $0 }) {
            throw ExportError.io(path: address.description, reason: why)
        }
        if !isListening() {
            throw ExportError.io(path: address.description, reason: "not listening")
        }
    }

    /// The port the server listens on (the one picked by the system when asked for port 0).
    public var boundPort: UInt16? {
        let s = server
        let r = Locked<UInt16?>(nil)
        let sem = DispatchSemaphore(value: 0)
        Task {
            if case .ip4(_, let port) = await s.listeningAddress { r.withLock { $0 = port } }
            sem.signal()
        }
        sem.wait()
        return r.withLock { $0 }
    }

    /// GET `path` from 127.0.0.1:`port` over a plain socket, as a scraper does (one connection
    /// per request, `Connection: close`); returns the body, "" on failure.
    public static func get(port: UInt16, path: String) -> String {
        String(decoding: getBytes(port: port, path: path), as: UTF8.self)
    }

    /// As `get`, the body's bytes (a scraper that only counts them decodes nothing).
    public static func getBytes(port: UInt16, path: String) -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return [] }
        let req = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = req.withCString { send(fd, $0, strlen($0), 0) }
        var out = [UInt8](), buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        let end: [UInt8] = [13, 10, 13, 10]
        guard out.count >= 4, let k = (0...(out.count - 4)).first(where: { out[$0..<($0 + 4)].elementsEqual(end) }) else { return [] }
        return Array(out[(k + 4)...])
    }

    private func isListening() -> Bool {
        let s = server
        let r = Locked(false)
        let sem = DispatchSemaphore(value: 0)
        Task { let l = await s.isListening; r.withLock { $0 = l }; sem.signal() }
        sem.wait()
        return r.withLock { $0 }
    }

    public func stop() {
        let s = server
        let sem = DispatchSemaphore(value: 0)
        Task { await s.stop(timeout: 0.5); sem.signal() }
        _ = sem.wait(timeout: .now() + 2)
        task?.cancel()
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if case SocketError.failed(_, let code, _) = error, code == EADDRINUSE {
            return "address in use (another process listens there; pick another with --metrics HOST:PORT)"
        }
        if text.contains("Address already in use") {
            return "address in use (another process listens there; pick another with --metrics HOST:PORT)"
        }
        return text
    }
}

