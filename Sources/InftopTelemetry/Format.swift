import Foundation

/// Number and duration formatting for the screen, the CLI tables and verdict lines (one formatter). Locale-independent (a `.` decimal point,
/// `,` thousands) so snapshots and tests read the same everywhere.
public enum Format {
    /// Milliseconds with 3 significant-ish digits: 0.045, 1.23, 12.3, 123.
    public static func ms(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        let a = abs(v)
        if v == 0 { return "0" }
        if a < 1 { return fixed(v, 3) }
        if a < 10 { return fixed(v, 2) }
        if a < 100 { return fixed(v, 1) }
        return grouped(Int(v.rounded()))
    }

    /// `v` with `decimals` digits after the point (0…6), rounded half away from zero, like
    /// printf's %.Nf for the magnitudes shown here, without its cost (it showed in profiles).
    public static func fixed(_ v: Double, _ decimals: Int) -> String {
        guard v.isFinite else { return "–" }
        let d = min(max(decimals, 0), 6)
        var scale = 1.0
        for _ in 0..<d { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e15 else { return String(v) }
        let n = Int(scaled)
        var digits = String(n)
        if d > 0 {
            if digits.count <= d { digits = String(repeating: "0", count: d - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -d))
        }
        return (v < 0 && n != 0 ? "-" : "") + digits
    }

    /// An integer with `,` every three digits: 12,345.
    public static func grouped(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return n < 0 ? "-" + out : out
    }

    /// Seconds as m:ss or h:mm:ss.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let s = Int(seconds.rounded(.down))
        let h = s / 3600, m = (s / 60) % 60, sec = s % 60
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(sec))" : "\(m):\(two(sec))"
    }

    /// Bytes in binary units: 512 B, 12.3 KiB, 1.50 MiB, 2.25 GiB.
    public static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while abs(v) >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(n) B" }
        return (abs(v) < 10 ? fixed(v, 2) : abs(v) < 100 ? fixed(v, 1)
                : fixed(v, 0)) + " " + units[u]
    }

    /// A fraction (0…1) as a percentage: "62%", or with `decimals`.
    public static func percent(_ fraction: Double, decimals: Int = 0) -> String {
        guard fraction.isFinite else { return "–" }
        return fixed(fraction * 100, decimals) + "%"
    }

    /// A compact number for axes and rates: 0.45, 12.3, 1,234, 12.3k, 4.5M.
    public static func compact(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        let a = abs(v)
        if a >= 1e9 { return fixed(v / 1e9, 1) + "G" }
        if a >= 1e6 { return fixed(v / 1e6, 1) + "M" }
        if a >= 1e4 { return fixed(v / 1e3, 1) + "k" }
        if a >= 100 || v == v.rounded() { return grouped(Int(v.rounded())) }
        if a >= 10 { return fixed(v, 1) }
        if a >= 0.01 || a == 0 { return fixed(v, 2) }
        return String(format: "%.1e", v)
    }

    /// A rate such as a learning rate, to `digits` significant digits without trailing zeros
    /// (C's %g): 0.05, 0.025, 0.0125, 0.001, 3.2e-05.
    public static func significant(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return "–" }
        return String(format: "%.\(max(1, digits))g", v)
    }
}
