import InftopTelemetry

/// `inftop replay --rerun`: the recorded and the live figures side by side, one footer line.
public enum ReplayCompare {
    /// "A/B rec│live · train 1 234│1 198 samples/s · loss 0.412│0.430 · serve p99 2.31│2.40 ms · 812│806 req/s".
    public static func line(recorded r: DashboardSnapshot, live l: DashboardSnapshot) -> String {
        func f(_ x: Double?, _ digits: Int) -> String {
            guard let x, x.isFinite else { return "–" }
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let v = (x * scale).rounded() / scale
            return digits == 0 ? String(Int(v)) : "\(v)"
        }
        var parts = ["A/B rec│live"]
        if r.training != nil || l.training != nil {
            parts.append("train \(f(r.training?.samplesPerSecond, 0))│\(f(l.training?.samplesPerSecond, 0)) samples/s")
            parts.append("loss \(f(r.training?.lastLoss, 3))│\(f(l.training?.lastLoss, 3))")
        }
        if r.inference != nil || l.inference != nil {
            parts.append("serve p99 \(f(r.inference?.latency?.p99Ms, 2))│\(f(l.inference?.latency?.p99Ms, 2)) ms")
            parts.append("\(f(r.inference?.itemsPerSecond, 0))│\(f(l.inference?.itemsPerSecond, 0)) req/s")
        }
        return parts.joined(separator: " · ")
    }

    /// Knob changes of a record: (record time, knobs before, knobs after) wherever they differ.
    public static func knobChanges(_ frames: [RecordFrame]) -> [(time: Double, from: KnobValues, to: KnobValues)] {
        var out: [(Double, KnobValues, KnobValues)] = []
        for i in frames.indices.dropFirst() where frames[i].knobs != frames[i - 1].knobs {
            out.append((frames[i].time, frames[i - 1].knobs, frames[i].knobs))
        }
        return out
    }
}

import InftopWorkloads
