import ArgumentParser
import InftopEngine
import InftopExport
import InftopWorkloads

/// `inftop export FILE.jsonl --csv DIR`: a record's series as CSV files.
/// `inftop export --onnx FILE --model mlp|cnn [--weights CKPT]`: a zoo model as ONNX (opset 17).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a record's series as CSV files, or a model as ONNX.",
        discussion: """
            inftop export run.jsonl --csv DIR          (training, serving, memory, layers, knobs)
            inftop export --onnx mlp.onnx --model mlp --weights mlp.safetensors
            """)

    @Argument(help: "A record written by --record (for --csv).") var file: String?
    @Option(help: ArgumentHelp("Folder for the CSV files (created if missing).", valueName: "dir")) var csv: String?
    @Option(help: ArgumentHelp("Write the model as an ONNX file (opset 17) here.", valueName: "file")) var onnx: String?
    @Option(help: ArgumentHelp("With --onnx: the model, mlp or cnn.", valueName: "name")) var model: String?
    @Option(help: ArgumentHelp("With --onnx: a checkpoint (inftop train --checkpoint) to take the weights from; default: fresh weights (seed 0).", valueName: "file"))
    var weights: String?
    @Option(help: ArgumentHelp("With --onnx: also write inftop's predicted class for each Fashion-MNIST test image, one a line (to compare with ONNX Runtime's).", valueName: "file"))
    var predictions: String?
    @Option(help: "Folder with the Fashion-MNIST IDX files (for --predictions).") var data = FashionMNIST.defaultDirectory

    func run() throws {
        if let onnx { return runONNX(onnx) }
        guard let dir = csv else { exitWithErrorLine("export", "give FILE.jsonl --csv DIR, or --onnx FILE --model mlp|cnn") }
        guard let file else { exitWithErrorLine("export", "--csv needs a record file (written by --record)") }
        let record: Record
        do { record = try Record.read(path: file) } catch { exitWithErrorLine("export", "\(error)") }
        for note in record.notes { printNote(note, command: "export") }
        do {
            for (path, rows) in try CSVExport.write(record, to: dir) { print("\(path): \(rows) rows") }
        } catch { exitWithErrorLine("export", "--csv \(error)") }
    }

    private func runONNX(_ path: String) {
        func fail(_ m: String) -> Never { exitWithErrorLine("export", m) }
        if csv != nil || file != nil { fail("--onnx writes a model; give a record and --csv in another call") }
        guard let name = model else { fail("--onnx needs --model \(ModelZoo.names.joined(separator: "|"))") }
        let m: Model
        do {
            m = try ModelZoo.make(name: name)
            if let weights { try Checkpoint.load(path: weights, into: m) }
        } catch { fail("\(error)") }
        do { try ONNXModel.write(m, to: path) } catch { fail("--onnx \(error)") }
        print("\(path): model \(name)\(weights.map { " from \($0)" } ?? " (fresh weights, seed 0)"), \(m.nodes.count) nodes, "
              + "\(m.parameterCount) parameters, ONNX opset \(ONNXModel.exportOpset)")
        guard let predictions else { return }
        let test: ImageDataset
        do { test = try FashionMNIST.load(directory: data).test } catch { fail("\(error)") }
        let classes = PredictedClasses.of(m, on: test)
        var text = classes.map(String.init).joined(separator: "\n")
        text += "\n"
        do {
            try Array(text.utf8).withUnsafeBytes { try FileBytes.writeAtomically(path: predictions, parts: [$0]) }
        } catch { fail("--predictions \(error)") }
        let correct = zip(classes, 0..<test.count).filter { Int($0) == Int(test.labels[$1]) }.count
        print("\(predictions): \(classes.count) predictions, \(correct) correct (test accuracy \(Double(correct) / Double(test.count)))")
    }
}
