import Foundation

/// A minimal renderer for ChatML chat templates (`tokenizer.chat_template`), the kind
/// SmolLM2-Instruct ships: each message as `<|im_start|>{role}\n{content}<|im_end|>\n`, a default
/// system message when the first is not a system one (taken from the template text), and
/// `<|im_start|>assistant\n` as the generation prompt. Not a Jinja engine: a template of another
/// shape is refused by `init`.
public struct ChatTemplate: Sendable, Equatable {
    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) { self.role = role; self.content = content }
    }

    /// The system message added when the conversation does not start with one (nil: none).
    public let defaultSystem: String?

    public init(defaultSystem: String?) { self.defaultSystem = defaultSystem }

    /// Reads `template` (Jinja text).
    /// - Throws: `EngineError.invalid` when it is not a ChatML template.
    public init(template: String) throws {
        guard template.contains("<|im_start|>"), template.contains("<|im_end|>") else {
            throw EngineError.invalid(what: "tokenizer.chat_template", reason: "not a ChatML (<|im_start|> … <|im_end|>) template; inftop renders only those")
        }
        let marker = "<|im_start|>system\n"
        if let r = template.range(of: marker), let end = template.range(of: "<|im_end|>", range: r.upperBound..<template.endIndex) {
            defaultSystem = String(template[r.upperBound..<end.lowerBound])
        } else {
            defaultSystem = nil
        }
    }

    /// The prompt text for `messages`, ending with the assistant's turn opened.
    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        var s = ""
        if let sys = defaultSystem, messages.first?.role != "system" { s += "<|im_start|>system\n\(sys)<|im_end|>\n" }
        for m in messages { s += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        if addGenerationPrompt { s += "<|im_start|>assistant\n" }
        return s
    }

    /// One user turn.
    public func render(user: String) -> String { render([Message(role: "user", content: user)]) }
}
