import Foundation
import XCTest

/// What leaves the screen, through the release binary: a real Prometheus scraping `inftop
/// serve`, a record cut by SIGKILL and replayed, and bad input getting one line each.
final class ExportsEndToEndTests: XCTestCase {
    /// A process started in the background with stdout/stderr to files; `stop` always reaps it.
    final class Background {
        let pid: pid_t
        let name: String
        private var reaped = false

        init(_ program: String, _ args: [String], stdout: String, stderr: String, env: [String: String] = [:]) throws {
            name = (program as NSString).lastPathComponent
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            var cargs: [UnsafeMutablePointer<CChar>?] = ([program] + args).map { strdup($0) } + [nil]
            defer { for p in cargs { free(p) } }
            var envList = ProcessInfo.processInfo.environment
            for (k, v) in env { envList[k] = v }
            var cenv: [UnsafeMutablePointer<CChar>?] = envList.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for p in cenv { free(p) } }
            var p: pid_t = 0
            let rc = posix_spawn(&p, program, &actions, nil, &cargs, &cenv)
            guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc), userInfo: [NSLocalizedDescriptionKey: "cannot start \(program)"]) }
            pid = p
        }

        /// Sends `signal`, waits up to 10 s, then SIGKILLs; returns the exit status (128 + signal if killed).
        @discardableResult
        func stop(_ signal: Int32 = SIGTERM) -> Int32 {
            guard !reaped else { return -1 }
            kill(pid, signal)
            var status: Int32 = 0
            for _ in 0..<1000 {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
                usleep(10_000)
            }
            if !reaped { kill(pid, SIGKILL); while waitpid(pid, &status, 0) < 0 && errno == EINTR {}; reaped = true }
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }

        deinit { stop(SIGKILL) }
    }

    func folder(_ tag: String) -> String {
        let d = NSTemporaryDirectory() + "inftop-e2e-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A loopback port nothing listens on now.
    func freePort() -> UInt16 {
        for _ in 0..<50 {
            let p = UInt16.random(in: 20_000...45_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET); addr.sin_port = p.bigEndian; addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if ok == 0 { return p }
        }
        return 29_464
    }

    /// GET http://127.0.0.1:port/path (plain socket, 5 s timeout); the body, "" on failure.
    func get(_ port: UInt16, _ path: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET); addr.sin_port = port.bigEndian; addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return "" }
        let req = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n"
        _ = req.withCString { send(fd, $0, strlen($0), 0) }
        var out = [UInt8](), buf = [UInt8](repeating: 0, count: 65536)
        while true { let n = recv(fd, &buf, buf.count, 0); if n <= 0 { break }; out.append(contentsOf: buf[0..<n]) }
        let text = String(decoding: out, as: UTF8.self)
        guard let r = text.range(of: "\r\n\r\n") else { return "" }
        var body = String(text[r.upperBound...])
        if text.lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return body
    }

    func dechunk(_ s: String) -> String {
        var out = "", rest = Substring(s)
        while let nl = rest.range(of: "\r\n"), let n = Int(rest[..<nl.lowerBound], radix: 16), n > 0 {
            let start = nl.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes.prefix(n), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(n + 2), as: UTF8.self))
        }
        return out
    }

    func query(_ port: UInt16, _ api: String, _ params: [String: String]) throws -> [[String: Any]] {
        var c = URLComponents()
        c.queryItems = params.map { URLQueryItem(name: $0.key, value: $0.value) }
        let q = c.percentEncodedQuery!.replacingOccurrences(of: "+", with: "%2B")
        let body = get(port, "/api/v1/\(api)?\(q)")
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "not JSON: \(body)")
        XCTAssertEqual(obj["status"] as? String, "success", body)
        return (obj["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
    }

    // MARK: -

    func testARealPrometheusScrapesInftopFor30Seconds() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let prom = "/usr/bin/prometheus"
        guard FileManager.default.isExecutableFile(atPath: prom) else {
            throw XCTSkip("Debian's prometheus is not installed (scripts/setup.sh installs it)")
        }
        let dir = folder("prom")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inftopPort = freePort(), promPort = freePort()
        let serve = try Background(bin, ["serve", "--metrics", "127.0.0.1:\(inftopPort)", "--seconds", "90", "--status-every", "0"],
                                   stdout: dir + "/serve.out", stderr: dir + "/serve.err")
        defer { serve.stop() }
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: inftop
                static_configs:
                  - targets: ["127.0.0.1:\(inftopPort)"]
            """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let server = try Background(prom, ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                           "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=warn"],
                                    stdout: dir + "/prom.out", stderr: dir + "/prom.err")
        defer { server.stop() }
        // inftop answers before Prometheus starts scraping it.
        var metrics = ""
        for _ in 0..<100 where !metrics.contains("inftop_request_latency_seconds_count") { usleep(100_000); metrics = get(inftopPort, "/metrics") }
        XCTAssertTrue(metrics.contains("inftop_request_latency_seconds_count"), "inftop /metrics: \(metrics.prefix(300))")
        usleep(30_000_000)   // 30 s of scrapes at 1 s

        let up = try query(promPort, "query", ["query": "up{job=\"inftop\"}"])
        XCTAssertEqual((up.first?["value"] as? [Any])?.last as? String, "1", "Prometheus sees the target up: \(up)")
        let latency = try query(promPort, "query_range", [
            "query": "inftop_request_latency_seconds_count{part=\"total\"}",
            "start": String(Date().timeIntervalSince1970 - 30), "end": String(Date().timeIntervalSince1970), "step": "1"])
        let values = ((latency.first?["values"] as? [[Any]]) ?? []).compactMap { ($0.last as? String).flatMap(Double.init) }
        XCTAssertGreaterThan(values.count, 10, "the latency series has points: \(latency)")
        XCTAssertGreaterThan(values.last ?? 0, values.first ?? 0, "and they change (requests keep coming)")
        let p99 = try query(promPort, "query", ["query": "histogram_quantile(0.99, rate(inftop_request_latency_seconds_bucket{part=\"total\"}[10s]))"])
        let q = ((p99.first?["value"] as? [Any])?.last as? String).flatMap(Double.init) ?? .nan
        XCTAssertTrue(q > 0 && q < 10, "p99 request latency from the histogram: \(p99)")
        let node = try query(promPort, "query", ["query": "inftop_node_duration_seconds_count{workload=\"serving\",node=\"fc1\",phase=\"forward\"}"])
        let n = ((node.first?["value"] as? [Any])?.last as? String).flatMap(Double.init) ?? 0
        XCTAssertGreaterThan(n, 0, "a per-node series: \(node)")
        let rss = try query(promPort, "query", ["query": "inftop_resident_memory_bytes"])
        XCTAssertFalse(rss.isEmpty)
    }

    /// 60 s of the dashboard printing frames and recording them, SIGKILL, then: every complete
    /// line replays, and the replayed screen at a tick equals the one printed live at that tick.
    func testRecordSixtySecondsKillReplay() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let dir = folder("record")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rec = dir + "/run.jsonl"
        let live = try Background(bin, ["-n", "100000", "--interval", "100", "--record", rec],
                                  stdout: dir + "/frames.txt", stderr: dir + "/err.txt", env: ["INFTOP_CONFIG": dir + "/none.conf"])
        usleep(60_000_000)
        XCTAssertEqual(live.stop(SIGKILL), 128 + SIGKILL)
        let data = try XCTUnwrap(FileManager.default.contents(atPath: rec))
        let completeLines = data.split(separator: 0x0A, omittingEmptySubsequences: true).count - (data.last == 0x0A ? 0 : 1)
        XCTAssertGreaterThan(completeLines, 300, "about 10 lines a second for 60 s")

        let (status, out, err) = try runProcess(bin, ["replay", rec, "--check"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains(": \(completeLines) ticks"), "every complete line replays: \(out) (\(completeLines) complete lines)")
        if data.last != 0x0A { XCTAssertTrue(err.contains("the last line is incomplete"), err) } else { XCTAssertEqual(err, "") }

        let printed = try String(contentsOfFile: dir + "/frames.txt", encoding: .utf8).components(separatedBy: "\u{0C}\n").dropLast()
        XCTAssertGreaterThan(printed.count, 300)
        for k in [0, printed.count / 2, min(printed.count, completeLines) - 1] {
            let (s, replayed, e) = try runProcess(bin, ["replay", rec, "--tick", String(k), "-n", "1"])
            XCTAssertEqual(s, 0, e)
            XCTAssertEqual(replayed, printed[k] + "\u{0C}\n", "tick \(k): the replayed screen equals the live one")
        }
    }

    func testBadInputGetsOneClearLine() throws {
        guard let bin = inftopBinary() else { throw XCTSkip("no release binary (scripts/test.sh builds it first)") }
        let dir = folder("bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"schema_version\":7,\"tick\":0}\n".write(toFile: dir + "/newer.jsonl", atomically: true, encoding: .utf8)
        // An address in use: something listens there.
        let port = freePort()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET); addr.sin_port = port.bigEndian; addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 1)
        defer { close(fd) }
        let cases: [([String], String)] = [
            (["replay", dir + "/newer.jsonl"], "inftop replay: \(dir)/newer.jsonl:1: schema_version 7 is newer than this inftop reads (2)"),
            (["replay", dir + "/missing.jsonl"], "inftop replay: \(dir)/missing.jsonl: no such file"),
            (["serve", "--seconds", "5", "--metrics", "127.0.0.1:\(port)"], "inftop serve: --metrics 127.0.0.1:\(port): address in use"),
            (["serve", "--seconds", "5", "--trace", "/nonexistent-dir/t.json"], "inftop serve: --trace /nonexistent-dir/t.json: No such file or directory"),
            (["serve", "--seconds", "5", "--metrics", "0.0.0.0:\(port)"], "inftop serve: --metrics 0.0.0.0:\(port): not a loopback address"),
            (["--once", "--record", "/nonexistent-dir/r.jsonl"], "inftop: --record /nonexistent-dir/r.jsonl: No such file or directory"),
            (["export", dir + "/newer.jsonl", "--csv", dir + "/csv"], "inftop export: \(dir)/newer.jsonl:1: schema_version 7"),
        ]
        for (args, start) in cases {
            let (status, out, err) = try runProcess(bin, args)
            XCTAssertEqual(status, 2, "\(args): status; stderr \(err)")
            XCTAssertEqual(out, "", "\(args): stdout")
            XCTAssertEqual(err.split(separator: "\n").count, 1, "\(args): one line, got \(err.debugDescription)")
            XCTAssertTrue(err.hasPrefix(start), "\(args): stderr is \(err.debugDescription)")
        }
        // A config with garbage: one warning line per bad line, the run goes on with the rest.
        let conf = dir + "/inftop.conf"
        try "batch = 32\ncolour = red\ninterval = fast\n\u{7}garbage\n".write(toFile: conf, atomically: true, encoding: .utf8)
        setenv("INFTOP_CONFIG", conf, 1)
        defer { unsetenv("INFTOP_CONFIG") }
        let (status, out, err) = try runProcess(bin, ["--once"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(err.split(separator: "\n").count, 3, err)
        XCTAssertTrue(err.contains("inftop.conf:2: unknown key 'colour'"), err)
        XCTAssertTrue(err.contains("inftop.conf:3: interval = \"fast\": must be an integer 10…10000; ignored"), err)
        XCTAssertTrue(out.contains("batch 32"), "the good key is taken: \(out.prefix(300))")
    }
}
