import InftopEngine

/// Encodable values as JSON written straight into bytes, for the record's lines: the text
/// `JSONDecoder` reads back (with the record's non-finite strategy: "nan", "inf", "-inf"), but
/// no intermediate tree. Foundation's JSONEncoder builds one and took ~150 ns a byte of output,
/// most of what a record line cost (`inftop bench --exports`: 0.6–1.2 ms a line at 10 lines a
/// second). Keys come in the order the types encode them; numbers as their shortest exact text.
///
/// For the value types the snapshots are made of (synthesized Codable: structs, enums,
/// optionals, arrays, dictionaries, numbers, strings); `Data`, `Date` and `URL`, which
/// JSONEncoder writes specially, are not among them.
public enum JSONStreamEncoder {
    /// Appends `value`'s JSON to `out`.
    public static func encode<T: Encodable>(_ value: T, into out: inout [UInt8]) throws {
        let stream = Stream()
        swap(&stream.out, &out)
        defer { swap(&stream.out, &out) }
        try stream.value(value, depth: 0)
    }

    /// Appends `xs` as a JSON array of numbers (a series' points, without copying them out).
    public static func encode(_ xs: ArraySlice<Double>, into out: inout [UInt8]) {
        let stream = Stream()
        swap(&stream.out, &out)
        defer { swap(&stream.out, &out) }
        stream.out.append(0x5B)
        for (k, x) in xs.enumerated() {
            if k > 0 { stream.out.append(0x2C) }
            stream.double(x)
        }
        stream.out.append(0x5D)
    }

    /// The output and the containers open in it (innermost last): a container closes when
    /// something is written into a shallower one, or when the value that opened it is done.
    final class Stream {
        var out: [UInt8] = []
        var open: [(close: UInt8, empty: Bool)] = []

        func close(to depth: Int) {
            while open.count > depth { out.append(open.removeLast().close) }
        }

        /// Opens a container at the current position; returns its depth.
        func begin(_ open: UInt8, _ close: UInt8) -> Int {
            out.append(open)
            self.open.append((close, true))
            return self.open.count
        }

        /// Before an element of the container at `depth`: closes deeper ones, adds the comma.
        func element(_ depth: Int) {
            close(to: depth)
            if open[depth - 1].empty { open[depth - 1].empty = false } else { out.append(0x2C) }
        }

        func key(_ k: some CodingKey, _ depth: Int) {
            element(depth)
            string(k.stringValue)
            out.append(0x3A)
        }

        /// A string literal: as is between quotes when nothing needs escaping (keys, names),
        /// else through `JSONText.quote`.
        func string(_ s: String) {
            var plain = true
            for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C { plain = false; break }
            if plain {
                out.append(0x22); out.append(contentsOf: s.utf8); out.append(0x22)
            } else {
                out.append(contentsOf: JSONText.quote(s).utf8)
            }
        }

        func text(_ t: String) { out.append(contentsOf: t.utf8) }

        func double(_ x: Double) {
            if x.isFinite { out.append(contentsOf: x.description.utf8) }
            else { string(x.isNaN ? "nan" : x > 0 ? "inf" : "-inf") }
        }

        func float(_ x: Float) {
            if x.isFinite { out.append(contentsOf: x.description.utf8) }
            else { string(x.isNaN ? "nan" : x > 0 ? "inf" : "-inf") }
        }

        /// A whole value at the current position (after its key or comma), inside depth `depth`.
        func value<T: Encodable>(_ v: T, depth: Int) throws {
            // Type identity, not `as?` casts: a failed dynamic cast per struct value was a
            // good part of the cost. (Arrays hand their elements over generically.)
            if T.self == Double.self { double(unsafeBitCast(v, to: Double.self)) }
            else if T.self == Float.self { float(unsafeBitCast(v, to: Float.self)) }
            else if T.self == Int.self { out.append(contentsOf: unsafeBitCast(v, to: Int.self).description.utf8) }
            else if T.self == String.self { string(unsafeBitCast(v, to: String.self)) }
            else if T.self == Bool.self { text(unsafeBitCast(v, to: Bool.self) ? "true" : "false") }
            else {
                let e = ValueEncoder(self, depth: depth)
                try v.encode(to: e)
                close(to: depth)
                if !e.wrote { out.append(contentsOf: "{}".utf8) }
            }
        }
    }

    /// The encoder of one value: it opens at most one container (asked again, the same one).
    /// Coding paths are not kept (they only name places in errors; building them cost an
    /// array per value).
    final class ValueEncoder: Encoder {
        let stream: Stream
        let depth: Int
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        var wrote = false
        private var container: Int?

        init(_ stream: Stream, depth: Int) { self.stream = stream; self.depth = depth }

        private func opened(_ open: UInt8, _ close: UInt8) -> Int {
            if let c = container { return c }
            wrote = true
            let c = stream.begin(open, close)
            container = c
            return c
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(stream, depth: opened(0x7B, 0x7D)))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed(stream, depth: opened(0x5B, 0x5D)) }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(self) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let stream: Stream
        let depth: Int
        var codingPath: [any CodingKey] { [] }
        init(_ stream: Stream, depth: Int) { self.stream = stream; self.depth = depth }

        private func put(_ key: Key, _ text: String) { stream.key(key, depth); stream.text(text) }
        private func put<T: Encodable>(_ key: Key, value: T) throws { stream.key(key, depth); try stream.value(value, depth: depth) }

        mutating func encodeNil(forKey key: Key) throws { put(key, "null") }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(key, value ? "true" : "false") }
        mutating func encode(_ value: String, forKey key: Key) throws { stream.key(key, depth); stream.string(value) }
        mutating func encode(_ value: Double, forKey key: Key) throws { stream.key(key, depth); stream.double(value) }
        mutating func encode(_ value: Float, forKey key: Key) throws { stream.key(key, depth); stream.float(value) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { put(key, value.description) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { put(key, value.description) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try put(key, value: value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            stream.key(key, depth)
            return KeyedEncodingContainer(Keyed<NestedKey>(stream, depth: stream.begin(0x7B, 0x7D)))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            stream.key(key, depth)
            return Unkeyed(stream, depth: stream.begin(0x5B, 0x5D))
        }

        mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            stream.key(key, depth)
            return ValueEncoder(stream, depth: depth)
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let stream: Stream
        let depth: Int
        var codingPath: [any CodingKey] { [] }
        private(set) var count = 0
        init(_ stream: Stream, depth: Int) { self.stream = stream; self.depth = depth }

        private mutating func put(_ text: String) { stream.element(depth); count += 1; stream.text(text) }
        private mutating func next() { stream.element(depth); count += 1 }

        mutating func encodeNil() throws { put("null") }
        mutating func encode(_ value: Bool) throws { put(value ? "true" : "false") }
        mutating func encode(_ value: String) throws { next(); stream.string(value) }
        mutating func encode(_ value: Double) throws { next(); stream.double(value) }
        mutating func encode(_ value: Float) throws { next(); stream.float(value) }
        mutating func encode(_ value: Int) throws { put(value.description) }
        mutating func encode(_ value: Int8) throws { put(value.description) }
        mutating func encode(_ value: Int16) throws { put(value.description) }
        mutating func encode(_ value: Int32) throws { put(value.description) }
        mutating func encode(_ value: Int64) throws { put(value.description) }
        mutating func encode(_ value: UInt) throws { put(value.description) }
        mutating func encode(_ value: UInt8) throws { put(value.description) }
        mutating func encode(_ value: UInt16) throws { put(value.description) }
        mutating func encode(_ value: UInt32) throws { put(value.description) }
        mutating func encode(_ value: UInt64) throws { put(value.description) }
        mutating func encode<T: Encodable>(_ value: T) throws { next(); try stream.value(value, depth: depth) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            next()
            return KeyedEncodingContainer(Keyed<NestedKey>(stream, depth: stream.begin(0x7B, 0x7D)))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            next()
            return Unkeyed(stream, depth: stream.begin(0x5B, 0x5D))
        }

        mutating func superEncoder() -> any Encoder {
            next()
            return ValueEncoder(stream, depth: depth)
        }
    }

    /// A value written in place of a container (optionals, enums with raw values, wrappers).
    struct Single: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }
        init(_ encoder: ValueEncoder) { self.encoder = encoder }

        private func write(_ text: String) { encoder.wrote = true; encoder.stream.out.append(contentsOf: text.utf8) }

        mutating func encodeNil() throws { write("null") }
        mutating func encode(_ value: Bool) throws { write(value ? "true" : "false") }
        mutating func encode(_ value: String) throws { encoder.wrote = true; encoder.stream.string(value) }
        mutating func encode(_ value: Double) throws { encoder.wrote = true; encoder.stream.double(value) }
        mutating func encode(_ value: Float) throws { encoder.wrote = true; encoder.stream.float(value) }
        mutating func encode(_ value: Int) throws { write(value.description) }
        mutating func encode(_ value: Int8) throws { write(value.description) }
        mutating func encode(_ value: Int16) throws { write(value.description) }
        mutating func encode(_ value: Int32) throws { write(value.description) }
        mutating func encode(_ value: Int64) throws { write(value.description) }
        mutating func encode(_ value: UInt) throws { write(value.description) }
        mutating func encode(_ value: UInt8) throws { write(value.description) }
        mutating func encode(_ value: UInt16) throws { write(value.description) }
        mutating func encode(_ value: UInt32) throws { write(value.description) }
        mutating func encode(_ value: UInt64) throws { write(value.description) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            encoder.wrote = true
            try encoder.stream.value(value, depth: encoder.depth)
        }
    }
}
