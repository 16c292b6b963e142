import ArgumentParser
import InftopExport

/// `inftop export FILE.jsonl --csv DIR`: a record's series as CSV files.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a record's series as CSV files (training, serving, memory, layers, knobs).")

    @Argument(help: "A record written by --record.") var file: String
    @Option(help: ArgumentHelp("Folder for the CSV files (created if missing).", valueName: "dir")) var csv: String?

    func run() throws {
        guard let dir = csv else { exitWithErrorLine("export", "give --csv DIR (the only export format so far)") }
        let record: Record
        do { record = try Record.read(path: file) } catch { exitWithErrorLine("export", "\(error)") }
        for note in record.notes { printNote(note, command: "export") }
        do {
            for (path, rows) in try CSVExport.write(record, to: dir) { print("\(path): \(rows) rows") }
        } catch { exitWithErrorLine("export", "--csv \(error)") }
    }
}
