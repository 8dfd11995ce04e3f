import ExampleRooms
import Foundation
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// The operational transformation functions, property-tested: for random documents (emoji and
/// other surrogate pairs included) and random concurrent operations, transforming then applying
/// gives the same text in both orders.
@Suite("TextOperation", .watched)
struct TextOperationTests {
    /// `document` after `a` then `b′`, and after `b` then `a′`.
    static func bothWays(_ document: DocumentText, _ a: TextOperation, _ b: TextOperation) throws
        -> (DocumentText, DocumentText)
    {
        let (aPrime, bPrime) = TextOperation.transform(a, b)
        var left = document
        try left.apply(a)
        try left.apply(bPrime)
        var right = document
        try right.apply(b)
        try right.apply(aPrime)
        return (left, right)
    }

    @Test("transform: a then b′ and b then a′ give the same text, for 2000 random pairs over 40 seeds")
    func convergence() throws {
        for seed in 1...40 {
            var random = SeededRandom(seed: UInt64(seed))
            for _ in 0..<50 {
                let original = RandomEdits.text(length: Int.random(in: 0...30, using: &random), using: &random)
                let document = DocumentText(original)
                #expect(document.string == original, "the text reads back")
                let a = RandomEdits.operation(on: document, using: &random)
                let b = RandomEdits.operation(on: document, using: &random)
                let (left, right) = try Self.bothWays(document, a, b)
                #expect(left == right, "seed \(seed): \(document.string.debugDescription) with \(a) and \(b)")
                #expect(left.string.utf16.count == left.count && left.string.utf8.count == left.utf8Count)
            }
        }
    }

    @Test("concurrent inserts at one place: the first operation's text goes first, on both sides")
    func insertTie() throws {
        let document = DocumentText("ac")
        let a = TextOperation([.retain(1), .insert("X"), .retain(1)])
        let b = TextOperation([.retain(1), .insert("Y"), .retain(1)])
        let (left, right) = try Self.bothWays(document, a, b)
        #expect(left.string == "aXYc")
        #expect(right.string == "aXYc")
    }

    @Test("concurrent deletes of overlapping ranges delete the union once")
    func overlappingDeletes() throws {
        let document = DocumentText("abcdef")
        let a = TextOperation([.retain(1), .delete(3), .retain(2)])  // bcd
        let b = TextOperation([.retain(2), .delete(3), .retain(1)])  // cde
        let (left, right) = try Self.bothWays(document, a, b)
        #expect(left.string == "af")
        #expect(right.string == "af")
    }

    @Test("normal form: adjacent components merge, an insert goes before a delete at one place")
    func normalForm() {
        let built = TextOperation([.retain(2), .retain(1), .delete(1), .insert("x"), .insert("y"), .delete(2), .retain(0)])
        #expect(built.components == [.retain(3), .insert("xy"), .delete(3)])
        #expect(built.baseLength == 6)
        #expect(built.targetLength == 5)
    }

    @Test("positions count UTF-16 code units; an edit inside a surrogate pair is refused and changes nothing")
    func surrogatePairs() throws {
        var document = DocumentText("a😀b")
        #expect(document.count == 4)
        #expect(throws: RoomError.self) { try document.apply(TextOperation([.retain(2), .insert("x"), .retain(2)])) }
        #expect(throws: RoomError.self) { try document.apply(TextOperation([.retain(1), .delete(1), .retain(2)])) }
        #expect(document.string == "a😀b")
        try document.apply(TextOperation([.retain(1), .delete(2), .insert("🎉"), .retain(1)]))
        #expect(document.string == "a🎉b")
        #expect(document.utf8Count == 6)
    }

    @Test("an operation that does not span the document, or makes it too large, is refused")
    func limits() throws {
        var document = DocumentText("abc")
        let short = #expect(throws: RoomError.self) { try document.apply(TextOperation([.retain(2)])) }
        #expect(short?.code == .invalidOperation)
        let large = #expect(throws: RoomError.self) {
            try document.apply(TextOperation([.retain(3), .insert("défg")]), maxBytes: 7)
        }
        #expect(large?.code == .documentTooLarge)
        try document.apply(TextOperation([.retain(3), .insert("déf")]), maxBytes: 7)
        #expect(document.string == "abcdéf")
        #expect(document.utf8Count == 7)
    }

    @Test("a cursor moves with the text: after an insert before it, back over a delete around it")
    func cursors() {
        let insert = TextOperation([.retain(2), .insert("xyz"), .retain(5)])
        #expect(insert.transform(position: 1) == 1)
        #expect(insert.transform(position: 2) == 5)
        #expect(insert.transform(position: 2, afterInserts: false) == 2)
        #expect(insert.transform(position: 7) == 10)
        let delete = TextOperation([.retain(2), .delete(3), .retain(2)])
        #expect(delete.transform(position: 3) == 2)
        #expect(delete.transform(position: 6) == 3)
    }

    @Test("JSON: the ot.js / ShareDB shape both ways; garbage components are refused")
    func json() throws {
        let operation = try JSONValue.array([["retain": 2], ["insert": "hi"], ["delete": 1], ["retain": 3]])
            .decode(TextOperation.self)
        #expect(operation.components == [.retain(2), .insert("hi"), .delete(1), .retain(3)])
        let encoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(operation))
        #expect(encoded == .array([["retain": 2], ["insert": "hi"], ["delete": 1]]))
        for garbage: JSONValue in [
            [["retain": 0]], [["delete": -1]], [["insert": ""]], [["retain": 1, "delete": 1]], [[:]], ["x"],
            [["retain": 1.5]], ["retain"],
        ] {
            #expect(throws: (any Error).self, "\(garbage)") { try garbage.decode(TextOperation.self) }
        }
    }
}
