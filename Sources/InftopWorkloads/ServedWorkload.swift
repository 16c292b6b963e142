/// What the dashboard's serving side runs: an `InferenceService` (classifiers, encoders) or the
/// `GenerationService` (the generative model). Both publish `InferenceSnapshot`s into the slot
/// they were given; the session starts and stops them.
public protocol ServedWorkload: AnyObject, Sendable {
    func start()
    /// Stops at the next step boundary and joins the workload's threads.
    func stop()
}

extension InferenceService: ServedWorkload {}
