/// A 24-bit colour.
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// From 0xRRGGBB.
    public init(hex: UInt32) { self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF)) }

    /// 0xRRGGBB.
    public var packed: Int { Int(r) << 16 | Int(g) << 8 | Int(b) }

    public var description: String {
        let h = String(packed, radix: 16)
        return "#" + String(repeating: "0", count: 6 - h.count) + h
    }

    /// Linear interpolation toward `o` by `t` (0…1).
    public func mix(_ o: RGB, _ t: Double) -> RGB {
        func m(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        return RGB(m(r, o.r), m(g, o.g), m(b, o.b))
    }

    /// Squared distance weighted for perceived difference ("redmean", cheap and good enough
    /// to pick the nearest palette entry).
    func distance(_ o: RGB) -> Double {
        let rm = (Double(r) + Double(o.r)) / 2
        let dr = Double(r) - Double(o.r), dg = Double(g) - Double(o.g), db = Double(b) - Double(o.b)
        return (2 + rm / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rm) / 256) * db * db
    }
}

/// A colour as a theme gives it.
public enum ThemeColor: Hashable, Sendable, CustomStringConvertible {
    /// The terminal's default foreground/background (`""` in a theme file).
    case terminalDefault
    case rgb(RGB)
    /// An index into the terminal's own palette, 0…255 (a bare number in a theme file; how the
    /// 16-colour theme follows the user's terminal scheme).
    case palette(Int)

    public var description: String {
        switch self {
        case .terminalDefault: "default"
        case .rgb(let c): c.description
        case .palette(let i): "palette \(i)"
        }
    }
}

/// What the terminal can show, best first.
public enum ColorDepth: Int, Comparable, Sendable, CustomStringConvertible {
    /// No colour: bold/dim/reverse/underline only (NO_COLOR, --no-color, or a mono terminal).
    case mono = 0
    case ansi8 = 8
    case ansi16 = 16
    case palette256 = 256
    /// A 256-colour terminal whose palette entries can be redefined (`can_change_color`):
    /// the theme's colours are loaded into entries 16… so they show exactly.
    case redefinable256 = 257
    /// Direct colour: colour numbers are 0xRRGGBB (terminfo `RGB`, e.g. xterm-direct).
    case direct = 16_777_216

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .mono: "mono"
        case .ansi8: "8 colours"
        case .ansi16: "16 colours"
        case .palette256: "256 colours"
        case .redefinable256: "truecolour (palette)"
        case .direct: "truecolour"
        }
    }
}

/// Nearest-colour mapping onto the standard xterm palettes.
public enum ColorMapping {
    /// xterm's default colours for palette entries 0…15.
    public static let ansi16: [RGB] = [
        0x000000, 0xCD0000, 0x00CD00, 0xCDCD00, 0x0000EE, 0xCD00CD, 0x00CDCD, 0xE5E5E5,
        0x7F7F7F, 0xFF0000, 0x00FF00, 0xFFFF00, 0x5C5CFF, 0xFF00FF, 0x00FFFF, 0xFFFFFF,
    ].map { RGB(hex: $0) }

    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The RGB value of xterm palette entry `i` (0…255).
    public static func xterm(_ i: Int) -> RGB {
        switch i {
        case ..<16: return ansi16[max(0, i)]
        case 16..<232:
            let j = i - 16
            return RGB(UInt8(cubeLevels[j / 36]), UInt8(cubeLevels[(j / 6) % 6]), UInt8(cubeLevels[j % 6]))
        default:
            let v = UInt8(8 + 10 * (min(i, 255) - 232))
            return RGB(v, v, v)
        }
    }

    /// The nearest entry of the 6×6×6 cube or the grey ramp (16…255). Entries 0…15 are left
    /// out: terminals redefine them, so they are not a fixed colour.
    public static func nearest256(_ c: RGB) -> Int {
        func level(_ v: UInt8) -> Int {
            var best = 0
            for (k, l) in cubeLevels.enumerated() where abs(l - Int(v)) < abs(cubeLevels[best] - Int(v)) { best = k }
            return best
        }
        let cube = 16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b)
        let avg = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let greyIndex = min(23, max(0, Int((Double(avg - 8) / 10).rounded())))
        let grey = 232 + greyIndex
        return c.distance(xterm(grey)) < c.distance(xterm(cube)) ? grey : cube
    }

    /// The nearest of the 16 ANSI colours (by xterm's defaults), or of the first 8 when `only8`.
    /// A clearly coloured input maps to a coloured entry and a greyish one to a grey: by
    /// distance alone mid-tone greens and blues land on grey and dark greys on blue or cyan.
    public static func nearest16(_ c: RGB, only8: Bool = false) -> Int {
        let greys: Set<Int> = [0, 7, 8, 15]
        let saturated = Int(max(c.r, c.g, c.b)) - Int(min(c.r, c.g, c.b)) >= 48
        var best = 0, bestD = Double.infinity
        for i in 0..<(only8 ? 8 : 16) where saturated != greys.contains(i) {
            let d = c.distance(ansi16[i])
            if d < bestD { bestD = d; best = i }
        }
        return best
    }

    /// A terminal colour number for `color` at `depth`; -1 is the terminal default. For
    /// `.redefinable256` an RGB colour comes back as its nearest 256 entry: the terminal
    /// itself allocates redefined entries (see NCursesTerminal).
    public static func terminalColor(_ color: ThemeColor, depth: ColorDepth) -> Int {
        switch color {
        case .terminalDefault:
            return -1
        case .palette(let i):
            switch depth {
            case .mono: return -1
            case .ansi8: return i < 8 ? i : (i < 16 ? i - 8 : nearest16(xterm(i), only8: true))
            case .ansi16: return i < 16 ? i : nearest16(xterm(i))
            case .palette256, .redefinable256: return i
            // Direct-colour terminfo sends numbers below 8 as ANSI colours, the rest as RGB.
            case .direct: return i < 8 ? i : xterm(i).packed
            }
        case .rgb(let c):
            switch depth {
            case .mono: return -1
            case .ansi8: return nearest16(c, only8: true)
            case .ansi16: return nearest16(c)
            case .palette256, .redefinable256: return nearest256(c)
            case .direct: return c.packed
            }
        }
    }
}
