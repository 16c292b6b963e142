/// A theme file could not be used: one line naming the file, the line and what is wrong.
public struct ThemeError: Error, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the problem is the file as a whole (unreadable).
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// A colour theme in btop's format: lines `theme[key]="value"`, `#` comments.
///
/// Values: `"#RRGGBB"`, `"#RGB"`, btop's grey `"#BW"` (two hex digits, e.g. `"#cc"`),
/// btop's decimal `"R G B"` (0–255 each, clamped like btop), a bare `"N"` (0–255) naming the
/// terminal's own palette entry (our extension, used by sixteen.theme), or `""` for the
/// terminal's default colour (for `*_mid`/`*_end`: no such gradient stop). Unknown keys are
/// ignored so newer btop themes load; a key a theme leaves out takes the default theme's
/// value, except `meter_bg`/`graph_text` (→ the theme's `inactive_fg`) and `process_*`
/// (→ its `cpu_*`), as btop does.
public struct Theme: Sendable, Equatable {
    public var name: String
    /// The file it came from; nil for a built-in theme.
    public var path: String?
    /// Every btop key after fallbacks; a gradient stop that is absent is missing here.
    public var values: [String: ThemeColor]
    /// Resolved colour per `ColorRole.raw`.
    public private(set) var palette: [ThemeColor]

    /// btop's keys for fixed roles, in `ColorRole.raw` order from 1.
    public static let roleKeys = ["main_bg", "main_fg", "title", "hi_fg", "selected_bg", "selected_fg", "inactive_fg",
                                  "graph_text", "meter_bg", "proc_misc", "cpu_box", "mem_box", "net_box", "proc_box",
                                  "div_line"]
    /// Every key read (others are ignored).
    public static let knownKeys: Set<String> = Set(roleKeys + Gradient.allCases.flatMap { g in
        ["start", "mid", "end"].map { "\(g.key)_\($0)" }
    })

    /// The colour for `role`.
    public func color(_ role: ColorRole) -> ThemeColor { palette[Int(role.raw)] }

    /// Builds a theme from parsed `values` over `base` (the default theme's values).
    public init(name: String, path: String?, values given: [String: ThemeColor], base: [String: ThemeColor]) {
        var v = given
        for key in Theme.roleKeys where v[key] == nil {
            switch key {
            case "meter_bg", "graph_text":
                v[key] = given["inactive_fg"] ?? base[key] ?? base["inactive_fg"]
            default:
                v[key] = base[key]
            }
        }
        for g in Gradient.allCases {
            let s = "\(g.key)_start", m = "\(g.key)_mid", e = "\(g.key)_end"
            if given[s] != nil { continue }   // the theme defines this gradient: keep its stops as given
            if g == .process, given["cpu_start"] != nil {
                v[s] = given["cpu_start"]; v[m] = given["cpu_mid"]; v[e] = given["cpu_end"]
            } else {
                v[s] = base[s]; v[m] = base[m]; v[e] = base[e]
            }
        }
        self.name = name; self.path = path; values = v
        var p = [ThemeColor](repeating: .terminalDefault, count: ColorRole.count)
        for (i, key) in Theme.roleKeys.enumerated() { p[i + 1] = v[key] ?? .terminalDefault }
        for g in Gradient.allCases {
            for step in 0..<Gradient.steps {
                let t = Double(step) / Double(Gradient.steps - 1)
                p[Int(ColorRole.gradient(g, t).raw)] = Theme.sample(start: v["\(g.key)_start"], mid: v["\(g.key)_mid"],
                                                                    end: v["\(g.key)_end"], at: t)
            }
        }
        palette = p
    }

    /// A gradient's colour at `t` (0…1): start → mid → end when all are RGB, start → end
    /// without mid, start alone without end; palette and default colours are not blended,
    /// the nearest stop is used.
    static func sample(start: ThemeColor?, mid: ThemeColor?, end: ThemeColor?, at t: Double) -> ThemeColor {
        guard let s = start else { return .terminalDefault }
        guard let e = end else { return s }
        if let m = mid {
            if case .rgb(let a) = s, case .rgb(let b) = m, case .rgb(let c) = e {
                return .rgb(t <= 0.5 ? a.mix(b, t * 2) : b.mix(c, (t - 0.5) * 2))
            }
            return t < 1.0 / 3 ? s : (t < 2.0 / 3 ? m : e)
        }
        if case .rgb(let a) = s, case .rgb(let c) = e { return .rgb(a.mix(c, t)) }
        return t < 0.5 ? s : e
    }

    // MARK: - Parsing

    /// Parses a theme file's text; `file` names it in errors. Throws on the first line that is
    /// neither blank, a comment, nor `theme[key]=value` with a valid colour.
    public static func parse(_ text: String, name: String, file: String, base: [String: ThemeColor]) throws(ThemeError) -> Theme {
        var values: [String: ThemeColor] = [:]
        var lineNumber = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = raw.strippingSpacesAndCR()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else {
                throw ThemeError(file: file, line: lineNumber, message: "expected theme[key]=\"value\", found \"\(line.prefix(40))\"")
            }
            let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
            var rest = line[line.index(after: close)...].drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else {
                throw ThemeError(file: file, line: lineNumber, message: "expected '=' after theme[\(key)]")
            }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            let value: String
            if rest.first == "\"" {
                let body = rest.dropFirst()
                guard let q = body.firstIndex(of: "\"") else {
                    throw ThemeError(file: file, line: lineNumber, message: "theme[\(key)]: missing closing quote")
                }
                value = String(body[..<q])
            } else {
                value = String(rest).strippingSpaces()
            }
            guard knownKeys.contains(key) else { continue }   // newer btop keys: ignored, as btop does
            let isStop = key.hasSuffix("_mid") || key.hasSuffix("_end")
            if value.strippingSpaces().isEmpty {
                if !isStop { values[key] = .terminalDefault }
                continue
            }
            guard let c = parseColor(value) else {
                throw ThemeError(file: file, line: lineNumber,
                                 message: "theme[\(key)]: bad colour \"\(value)\" (want \"#RRGGBB\", \"#RGB\", \"#BW\", \"R G B\" or a palette index 0–255)")
            }
            values[key] = c
        }
        return Theme(name: name, path: file, values: values, base: base)
    }

    /// One colour value as a theme file writes it; nil when it is none of the accepted forms.
    public static func parseColor(_ s: String) -> ThemeColor? {
        let v = s.strippingSpaces()
        if v.isEmpty { return .terminalDefault }
        if v.hasPrefix("#") {
            let hex = v.dropFirst()
            guard hex.allSatisfy(\.isHexDigit), let n = UInt32(hex, radix: 16) else { return nil }
            switch hex.count {
            case 6: return .rgb(RGB(hex: n))
            case 3:
                let r = UInt8((n >> 8) & 0xF) * 17, g = UInt8((n >> 4) & 0xF) * 17, b = UInt8(n & 0xF) * 17
                return .rgb(RGB(r, g, b))
            case 2: return .rgb(RGB(UInt8(n), UInt8(n), UInt8(n)))
            default: return nil
            }
        }
        let parts = v.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if parts.count == 3 {
            let ints = parts.compactMap { Int($0) }
            guard ints.count == 3 else { return nil }
            func c(_ x: Int) -> UInt8 { UInt8(min(max(x, 0), 255)) }
            return .rgb(RGB(c(ints[0]), c(ints[1]), c(ints[2])))
        }
        if parts.count == 1, let i = Int(parts[0]), (0...255).contains(i) { return .palette(i) }
        return nil
    }
}

extension StringProtocol {
    func strippingSpacesAndCR() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
