import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `inftop`: top for neural networks. Wiring only; the work lives in the library modules.
struct Inftop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inftop",
        abstract: "top for neural networks: live training and inference on the CPU.",
        subcommands: [DashboardCommand.self, TrainCommand.self, TuneCommand.self, BenchCommand.self, EmbedCommand.self, ServeCommand.self,
                      ReplayCommand.self, ExportCommand.self, GenerateCommand.self, TokenizeCommand.self, ScoreCommand.self],
        defaultSubcommand: DashboardCommand.self)

    /// ArgumentParser's `main`, except that a command line it cannot parse (an unknown option, a
    /// missing or malformed value) gets one line on stderr naming what is wrong and where help is,
    /// and exit status 2 like every other bad input, instead of the error plus the whole usage
    /// block and 64. `--help`, and errors the commands report themselves, are unchanged.
    static func main() { start(Array(CommandLine.arguments.dropFirst())) }

    /// `main` on `arguments` (main.swift passes them through `Arguments.prepare`: bare
    /// `--metrics`, the config file).
    static func start(_ arguments: [String]) {
        let command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            if exitCode(for: error) != .validationFailure { exit(withError: error) }
            let sub = arguments.first.flatMap { a in configuration.subcommands.first { $0._commandName == a } }
            let name = sub?._commandName ?? ""
            let why = message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            exitWithErrorLine(name, "\(why) (see '\(name.isEmpty ? "inftop" : "inftop " + name) --help')")
        }
        do {
            var command = command
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
