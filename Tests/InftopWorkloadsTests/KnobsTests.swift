import XCTest
import InftopWorkloads

final class KnobsTests: XCTestCase {
    /// A writer's edit lands field by field: what it changed is taken, what another writer set
    /// since it read the values stays.
    func testApplyChangesKeepsOtherWritersFields() {
        let old = KnobValues(batchSize: 64, threads: 2, model: "mlp")
        var edited = old
        edited.batchSize = 128                       // the UI's key
        let knobs = Knobs(old)
        knobs.update { $0.model = "cnn" }            // the session, in between
        let result = knobs.update { $0.applyChanges(from: old, to: edited) }
        XCTAssertEqual(result.batchSize, 128)
        XCTAssertEqual(result.model, "cnn", "the session's model switch must survive the UI's write")
        XCTAssertEqual(result.threads, 2)
    }

    /// Every field is covered: changing all of them at once carries all of them over, and the
    /// count of listed fields matches the struct's stored properties.
    func testApplyChangesCoversEveryField() {
        let old = KnobValues()
        let new = KnobValues(batchSize: 7, inferenceBatchSize: 3, precision: .int8, pruning: 0.5, threads: 4,
                             backend: .simd, responseCache: true, distillation: true, trainingPaused: true,
                             inferencePaused: true, model: "cnn")
        var v = old
        v.applyChanges(from: old, to: new)
        XCTAssertEqual(v, new)
        XCTAssertEqual(Mirror(reflecting: old).children.count, KnobValues.appliedFieldCount,
                       "a field was added to KnobValues: list it in applyChanges")
        // Nothing changed: nothing taken.
        var w = new
        w.applyChanges(from: old, to: old)
        XCTAssertEqual(w, new)
    }
}
