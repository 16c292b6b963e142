import XCTest
import InftopEngine

final class RandomTests: XCTestCase {
    /// First outputs of xoshiro256** seeded by SplitMix64, from the authors' C code.
    func testMatchesReferenceImplementation() {
        var a = SeededRandom(seed: 0)
        XCTAssertEqual([a.next(), a.next(), a.next(), a.next()],
                       [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0, 0x6aa594f1262d2d2c])
        var b = SeededRandom(seed: 42)
        XCTAssertEqual([b.next(), b.next(), b.next(), b.next()],
                       [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1, 0xecb8ad4703b360a1])
    }

    func testUniformRangeAndMoments() {
        var r = SeededRandom(seed: 3)
        let n = 200_000
        var sum = 0.0, sq = 0.0
        for _ in 0..<n {
            let u = r.uniform(-2, 3)
            XCTAssertTrue(u >= -2 && u < 3)
            sum += Double(u); sq += Double(u) * Double(u)
        }
        let mean = sum / Double(n), variance = sq / Double(n) - mean * mean
        XCTAssertEqual(mean, 0.5, accuracy: 0.02)            // σ/√n ≈ 0.0032
        XCTAssertEqual(variance, 25.0 / 12.0, accuracy: 0.03)
    }

    func testNormalMoments() {
        var r = SeededRandom(seed: 5)
        let n = 200_000
        var sum = 0.0, sq = 0.0, fourth = 0.0
        for _ in 0..<n {
            let z = Double(r.normal())
            sum += z; sq += z * z; fourth += z * z * z * z
        }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(sq / Double(n), 1, accuracy: 0.015)
        XCTAssertEqual(fourth / Double(n), 3, accuracy: 0.1)   // kurtosis of a Gaussian
    }

    func testShuffleIsADeterministicPermutation() {
        var a = Array(0..<1000), b = Array(0..<1000)
        var r1 = SeededRandom(seed: 9), r2 = SeededRandom(seed: 9)
        r1.shuffle(&a); r2.shuffle(&b)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.sorted(), Array(0..<1000))
        XCTAssertNotEqual(a, Array(0..<1000))
        var c = Array(0..<1000)
        var r3 = SeededRandom(seed: 10)
        r3.shuffle(&c)
        XCTAssertNotEqual(a, c)
        var one = [7], none: [Int] = []
        r3.shuffle(&one); r3.shuffle(&none)
        XCTAssertEqual(one, [7])
    }

    /// Every position of a 3-element shuffle sees every value about equally often.
    func testShuffleIsUniform() {
        var r = SeededRandom(seed: 11)
        var counts = [[Int]](repeating: [0, 0, 0], count: 3)
        for _ in 0..<30_000 {
            var a = [0, 1, 2]
            r.shuffle(&a)
            for (pos, v) in a.enumerated() { counts[pos][v] += 1 }
        }
        for row in counts { for c in row { XCTAssertEqual(Double(c), 10_000, accuracy: 400) } }
    }

    func testNextIntBounds() {
        var r = SeededRandom(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<1000 { let v = r.nextInt(below: 7); XCTAssertTrue(v >= 0 && v < 7); seen.insert(v) }
        XCTAssertEqual(seen.count, 7)
        XCTAssertEqual(r.nextInt(below: 1), 0)
    }
}
