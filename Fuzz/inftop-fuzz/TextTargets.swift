import Foundation
import InftopExport
import InftopTUI
import InftopWorkloads

/// Text files and option values the user writes.
enum TextTargets {
    /// A theme file loaded by path (`ThemeLibrary.load`, what `--theme FILE` does).
    static func theme(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write(input, name: "fuzz.theme")
        let (theme, warning) = ThemeLibrary(directories: []).load(path)
        _ = theme.name.count &+ (warning?.count ?? 0)
    }

    /// `ConfigFile.load(path:)`; the values it accepts are rendered (as `--write-config` does)
    /// and parsed again, and must come back the same.
    static func config(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write(input, name: "inftop.conf")
        let config = ConfigFile.load(path: path)
        let again = ConfigFile.parse(ConfigFile.render(config.values), path: path)
        for (key, value) in config.values where again.values[key] != value {
            preconditionFailure("config \(key) = \(value.debugDescription) reads back as \(String(describing: again.values[key]).debugDescription)")
        }
    }

    /// `Record.read(path:)` (every line decoded; corrupt lines become notes).
    static func record(_ input: UnsafeRawBufferPointer) {
        let path = Scratch.write(input, name: "fuzz.record")
        guard let record = try? Record.read(path: path) else { return }
        _ = record.frames.count &+ record.notes.count
    }

    /// Every `inftop bench` list parser over the same text.
    static func benchList(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        _ = try? BenchInput.shapes(text)
        _ = try? BenchInput.backends(text)
        _ = BenchInput.splittingInt8(text)
        _ = try? BenchInput.precisions(text)
        _ = try? BenchInput.sparsities(text)
        _ = try? BenchInput.threads(text)
        _ = try? BenchInput.layouts(text)
        _ = try? BenchInput.scenarios(text)
        _ = try? BenchInput.integers(text, option: "--batch", range: 1...4096)
        _ = try? BenchInput.numbers(text, option: "--rate", range: 0...1e6, openBelow: true)
        _ = try? BenchInput.switches(text, option: "--cache")
    }
}
