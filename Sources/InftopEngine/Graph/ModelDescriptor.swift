/// The facts about a model that the workloads, the serving side and the screen act on, in one
/// place (no model-name checks elsewhere): what goes in, what comes out, how fast to offer it
/// requests by default, how to batch its evaluation, whether it trains.
public struct ModelDescriptor: Sendable, Equatable {
    public enum Input: Sendable, Equatable {
        /// One sample is a float tensor of `shape` (batch excluded): `[784]`, `[1, 28, 28]`.
        case image(shape: [Int])
        /// One sample is a token sequence of at most `maxLength` ids below `vocabSize`.
        case tokens(maxLength: Int, vocabSize: Int)
    }

    public enum Output: Sendable, Equatable {
        /// Logits over `count` classes; served accuracy = predictions that match the label.
        case classes(Int)
        /// A unit-length sentence vector of `dimension`; served accuracy = cosine to the fp32
        /// reference embedding of the same input.
        case embedding(dimension: Int)
    }

    /// "mlp", "cnn", or the folder name of a loaded encoder ("all-MiniLM-L6-v2").
    public let name: String
    /// What the model is, for the header ("784-256-128-10 MLP", "BERT 6×384").
    public let summary: String
    public let input: Input
    public let output: Output
    /// Requests per second the dashboard's load generator offers by default.
    public let servingRate: Double
    /// Samples per evaluation batch (bounded by the activations it needs).
    public let evalBatchSize: Int
    /// Whether the training loop can train it (every node has a backward).
    public let trainable: Bool
    /// The Server scenario's default p99 latency bound, ms (MLPerf sets one per model).
    public let latencyBoundMs: Double

    public init(name: String, summary: String, input: Input, output: Output, servingRate: Double,
                evalBatchSize: Int, trainable: Bool, latencyBoundMs: Double) {
        self.name = name; self.summary = summary; self.input = input; self.output = output
        self.servingRate = servingRate; self.evalBatchSize = evalBatchSize; self.trainable = trainable
        self.latencyBoundMs = latencyBoundMs
    }

    /// The shape of one sample for image models, nil for token models.
    public var sampleShape: [Int]? {
        if case .image(let shape) = input { return shape }
        return nil
    }
}
