import ArgumentParser

/// `inftop`: top for neural networks. Wiring only; the work lives in the library modules.
struct Inftop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inftop",
        abstract: "top for neural networks: live training and inference on the CPU.",
        subcommands: [DashboardCommand.self, TrainCommand.self, BenchCommand.self, EmbedCommand.self],
        defaultSubcommand: DashboardCommand.self)
}
