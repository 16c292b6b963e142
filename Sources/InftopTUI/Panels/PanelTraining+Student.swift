import InftopTelemetry

/// The distillation student (`d`) in the training panel, beside its teacher (the model being
/// trained): one row under the teacher's numbers — "student mlp-small test 84.9% · teacher 86.1%
/// kd loss 0.41 step 1 200 · 9.8k samples/s" — and its test accuracy as a third curve on the
/// accuracy chart. With both parameter counts published, "50.9k/235k params" follows the
/// student's name. Nothing is drawn without a student.
extension TrainingPanel {
    /// Rows the student takes above the charts (0 without one).
    static func studentRows(_ ctx: RenderContext) -> Int { ctx.snapshot.student == nil ? 0 : 1 }

    static func drawStudentRow(_ ctx: RenderContext, teacher t: TrainingSnapshot, into canvas: inout Canvas, inner: Rect, row: Int) {
        guard let s = ctx.snapshot.student, row < inner.height else { return }
        let st = ctx.styles
        var n = LineWriter(inner, row: row)
        n.write("student ", st.label, into: &canvas)
        n.write(s.model, st.bold, into: &canvas)
        if let sp = s.parameters, let tp = t.parameters {
            n.writeIfFits(" \(Format.compact(Double(sp)))/\(Format.compact(Double(tp))) params", st.dim, into: &canvas)
        }
        n.write(" test ", st.label, into: &canvas)
        n.write(s.testAccuracy.map { accuracyText($0) } ?? "–", studentStyle(st), into: &canvas)
        n.write(" · teacher ", st.label, into: &canvas)
        n.write(t.testAccuracy.map { accuracyText($0) } ?? "–", st.series(.seriesSecondary, emphasis: false), into: &canvas)
        n.writeIfFits("  kd loss \(s.lastLoss.map { Format.compact($0) } ?? "–")", st.text, into: &canvas)
        n.writeIfFits("  step \(Format.grouped(s.step)) · \(Format.compact(s.samplesPerSecond)) samples/s", st.text, into: &canvas)
    }

    /// The student's test accuracy on the accuracy chart (nil without a student).
    static func studentAccuracySeries(_ ctx: RenderContext) -> ChartSeries? {
        guard let s = ctx.snapshot.student?.series("test_acc"), !s.values.isEmpty else { return nil }
        return ChartSeries(times: s.times, values: s.values.map { accuracyFraction($0, unit: s.unit) }, style: studentStyle(ctx.styles))
    }

    static func studentStyle(_ st: StyleSheet) -> Style { st.series(.seriesThroughput) }
}
