import Foundation
import InftopTelemetry
import InftopWorkloads
#if canImport(Glibc)
import Glibc
#endif

/// `--record FILE.jsonl`: appends one line per tick with a single write(2), no user-space
/// buffer, so a killed process leaves every line it finished writing readable (at most the last
/// one is cut, and readers skip it). Not a temporary-and-rename file on purpose: the point is
/// that the file is complete up to the moment the process died.
public final class RecordWriter {
    public let path: String
    private let fd: Int32
    private var encoder = RecordEncoder()
    private let origin: UInt64
    public private(set) var ticks = 0
    public private(set) var bytes = 0
    public private(set) var failure: String?

    /// - Throws: `ExportError.io` naming the path when it cannot be created.
    public init(path: String, origin: UInt64 = monotonicNanos()) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportError.io(path: path, reason: String(cString: strerror(errno))) }
        self.path = path
        self.origin = origin
    }

    deinit { close(fd) }

    /// Writes the tick's line (time = now − origin unless given). A write error is kept in
    /// `failure` and recording stops (the dashboard goes on; the footer says why).
    public func append(snapshot: DashboardSnapshot, knobs: KnobValues, time: Double? = nil) {
        guard failure == nil else { return }
        let t = time ?? Double(monotonicNanos() &- origin) / 1e9
        do {
            let data = try encoder.line(RecordFrame(tick: ticks, time: t, knobs: knobs, snapshot: snapshot))
            try data.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 { if errno == EINTR { continue }; throw ExportError.io(path: path, reason: String(cString: strerror(errno))) }
                    done += n
                }
            }
            ticks += 1
            bytes += data.count
        } catch {
            failure = "\(error); recording stopped after \(ticks) ticks (they replay)"
        }
    }
}

/// A record read back: its frames, and the notes about lines that were skipped.
public struct Record: Sendable {
    public var path: String
    public var frames: [RecordFrame]
    /// One line per skipped line ("FILE:12: …"): a truncated last line, a corrupt line.
    public var notes: [String]

    /// Reads every complete line of `path`.
    /// - Throws: `ExportError` when the file cannot be read, holds no frame, or has a line of a
    ///   newer schema (the reader stops there: it cannot know what the fields mean).
    public static func read(path: String) throws -> Record {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExportError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        var frames: [RecordFrame] = [], notes: [String] = []
        var decoder = RecordDecoder()
        var start = data.startIndex, lineNo = 0
        while start < data.endIndex {
            lineNo += 1
            let end = data[start...].firstIndex(of: 0x0A)
            let line = data[start..<(end ?? data.endIndex)]
            start = end.map { $0 + 1 } ?? data.endIndex
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do {
                frames.append(try decoder.frame(Data(line)))
            } catch RecordDecoder.LineError.newerSchema(let v) {
                throw ExportError.invalid("\(path):\(lineNo): schema_version \(v) is newer than this inftop reads (\(RecordFormat.schemaVersion)); use a newer inftop")
            } catch RecordDecoder.LineError.corrupt(let why) {
                if end == nil {
                    notes.append("\(path):\(lineNo): the last line is incomplete (the recording was cut off); skipped")
                } else {
                    notes.append("\(path):\(lineNo): not a record line (\(why)); skipped")
                }
            }
        }
        guard !frames.isEmpty else {
            throw ExportError.invalid("\(path): no complete record line" + (notes.first.map { " (\($0))" } ?? ""))
        }
        return Record(path: path, frames: frames, notes: notes)
    }
}
