import ExampleRooms
import Foundation
@_spi(Node) import RoomRuntime

/// A doc room's `op` frame, taken as far as the room takes it without its file: decoded
/// (`OperationFrame`), padded to the document's length, transformed against concurrent edits
/// (`TextOperation.transform`) and applied (`DocumentText.apply`).
///
/// Invariants: decoding refuses with the frame-decoding codes; an operation survives its own
/// encoding (`encodedWhole`) unchanged; applying it refuses `invalid_operation` or
/// `document_too_large`, or gives a text of the operation's target length whose UTF-8 size is
/// kept right; and transformed against each concurrent edit `b`, `a` then `b′` and `b` then `a′`
/// give the same text (the convergence every client relies on).
enum DocumentFuzzing {
    /// The document: ASCII, two-byte and three-byte characters and a surrogate pair.
    static let text = DocumentText("héllo, wörld ✓ 😀 end")
    /// Edits other clients made on the same version.
    static let concurrent: [TextOperation] = {
        let length = text.count
        return [
            TextOperation([.insert("X")]).padded(to: length),
            TextOperation([.retain(3), .delete(4), .insert("ab")]).padded(to: length),
            TextOperation([.retain(length - 4), .delete(4)]),
            TextOperation([.delete(length), .insert("new")]),
        ]
    }()
    /// Small, so that the fuzzer reaches it.
    static let maxBytes = 256

    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        let frame: OperationFrame
        do {
            frame = try ClientMessage.text(String(decoding: bytes, as: UTF8.self)).decodeJSON(OperationFrame.self)
        } catch {
            try ExpectedErrors.check(error, in: ExpectedErrors.frameDecoding, "decode")
            return
        }
        let operation = frame.ops
        let encoded: Data
        do {
            encoded = try operation.encodedWhole()
        } catch {
            throw FuzzFailure("encodedWhole threw \(error)")
        }
        let decoded = try? JSONDecoder().decode(TextOperation.self, from: encoded)
        try FuzzFailure.check(decoded == operation, "\(operation) read back from its encoding as \(String(describing: decoded))")

        // As the room does: an operation may leave out its trailing retain.
        guard operation.baseLength <= text.count else { return }
        let a = operation.padded(to: text.count)
        guard let applied = try apply(a, to: text) else { return }
        for b in concurrent {
            let (aPrime, bPrime) = TextOperation.transform(a, b)
            guard let afterB = try apply(b, to: text),
                let left = try apply(bPrime, to: applied, limit: .max),
                let right = try apply(aPrime, to: afterB, limit: .max)
            else { continue }
            try FuzzFailure.check(
                left == right, "a then b′ gives \(left.string.debugDescription), b then a′ \(right.string.debugDescription)")
        }
    }

    /// `text` with `operation` applied; nil when refused as documented.
    private static func apply(_ operation: TextOperation, to text: DocumentText, limit: Int = maxBytes) throws(FuzzFailure)
        -> DocumentText?
    {
        var result = text
        do {
            try result.apply(operation, maxBytes: limit)
        } catch {
            // A transformed edit may still cut a surrogate pair the other side inserted around.
            try ExpectedErrors.check(error, in: ["invalid_operation", "document_too_large"], "apply")
            try FuzzFailure.check(result == text, "a refused operation changed the text")
            return nil
        }
        try FuzzFailure.check(result.count == operation.targetLength, "the text is not the operation's target length")
        try FuzzFailure.check(result.utf8Count == result.string.utf8.count, "the UTF-8 size went wrong")
        return result
    }
}

extension TextOperation {
    /// The operation with a retain up to `length`.
    fileprivate func padded(to length: Int) -> TextOperation {
        var operation = self
        operation.retain(length - baseLength)
        return operation
    }
}
