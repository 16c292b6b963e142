import Foundation

/// Finds and loads themes: `--theme NAME|PATH`, then the repo's `themes/`, then
/// `$XDG_CONFIG_HOME/inftop/themes/` (`~/.config/inftop/themes/` without XDG_CONFIG_HOME),
/// then the built-in copies of the shipped themes.
public struct ThemeLibrary: Sendable {
    /// Directories searched for `NAME.theme`, first match wins.
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The default search path: `themes/` in the current directory and beside the executable's
    /// package checkout (`.build/<triple>/<config>/inftop` → the checkout's `themes/`), then the
    /// user's config directory.
    public static func defaultDirectories(environment: [String: String] = ProcessInfo.processInfo.environment,
                                          executablePath: String? = CommandLine.arguments.first,
                                          currentDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        var dirs: [String] = [currentDirectory + "/themes"]
        if let exe = executablePath, exe.contains("/") {
            var url = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                url.deleteLastPathComponent()
                dirs.append(url.appendingPathComponent("themes").path)
            }
        }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            dirs.append(xdg + "/inftop/themes")
        } else if let home = environment["HOME"], !home.isEmpty {
            dirs.append(home + "/.config/inftop/themes")
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    /// Theme names `T` cycles through: the shipped ones first, then every other `*.theme` in
    /// the directories, alphabetically.
    public func availableNames() -> [String] {
        var names = BuiltinThemes.names
        var extra = Set<String>()
        for dir in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for f in files where f.hasSuffix(".theme") {
                let stem = String(f.dropLast(6))
                if !names.contains(stem) { extra.insert(stem) }
            }
        }
        names.append(contentsOf: extra.sorted())
        return names
    }

    /// The file a name resolves to, if any.
    public func path(for name: String) -> String? {
        if name.contains("/") || name.hasSuffix(".theme") {
            return FileManager.default.fileExists(atPath: name) ? name : nil
        }
        for dir in directories {
            let p = dir + "/" + name + ".theme"
            if FileManager.default.isReadableFile(atPath: p) { return p }
        }
        return nil
    }

    /// The base every theme falls back to for keys it leaves out.
    public static let defaultValues: [String: ThemeColor] = {
        // The shipped default parses (a test checks); `try!` would only fire on a broken build.
        (try? Theme.parse(BuiltinThemes.defaultText, name: "default", file: "default.theme", base: [:]))?.values ?? [:]
    }()

    /// The built-in default theme.
    public static var defaultTheme: Theme { Theme(name: "default", path: nil, values: defaultValues, base: defaultValues) }

    /// Loads `nameOrPath`. Never fails: a missing or bad theme gives the default theme and a
    /// one-line warning naming the file (and line) and what is wrong.
    public func load(_ nameOrPath: String) -> (theme: Theme, warning: String?) {
        let base = ThemeLibrary.defaultValues
        if let p = path(for: nameOrPath) {
            let stem = URL(fileURLWithPath: p).deletingPathExtension().lastPathComponent
            guard let data = FileManager.default.contents(atPath: p) else {
                return (ThemeLibrary.defaultTheme, "\(p): cannot be read; using the default theme")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                return (ThemeLibrary.defaultTheme, "\(p): not UTF-8 text; using the default theme")
            }
            do {
                return (try Theme.parse(text, name: stem, file: p, base: base), nil)
            } catch {
                return (ThemeLibrary.defaultTheme, "\(error); using the default theme")
            }
        }
        if let text = BuiltinThemes.text(nameOrPath) {
            do {
                var t = try Theme.parse(text, name: nameOrPath, file: "\(nameOrPath).theme", base: base)
                t.path = nil
                return (t, nil)
            } catch {
                return (ThemeLibrary.defaultTheme, "\(error); using the default theme")
            }
        }
        let looked = directories.isEmpty ? "" : " (looked in \(directories.joined(separator: ", ")))"
        return (ThemeLibrary.defaultTheme, "theme \"\(nameOrPath)\" not found\(looked); using the default theme")
    }
}

extension Theme {
    /// True when every colour is the terminal default: draw as on a monochrome terminal.
    public var isMonochrome: Bool { palette.allSatisfy { $0 == .terminalDefault } }
}
