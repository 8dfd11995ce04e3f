extension TextOperation {
    /// Transforms two operations made concurrently on the same document: returns `(a′, b′)` such
    /// that applying `a` then `b′` gives the same text as applying `b` then `a′`.
    ///
    /// When both insert at the same place, `a`'s text goes first. The room passes the incoming
    /// operation as `a` and a committed one as `b`; the JavaScript client passes its own pending
    /// operation as `a` and the server's as `b`, so both sides order such inserts the same way.
    ///
    /// - Precondition: `a.baseLength == b.baseLength`.
    public static func transform(_ a: TextOperation, _ b: TextOperation) -> (TextOperation, TextOperation) {
        precondition(a.baseLength == b.baseLength, "transform: operations on documents of different lengths")
        var aPrime = TextOperation()
        var bPrime = TextOperation()
        var left = ComponentCursor(a.components)
        var right = ComponentCursor(b.components)
        while left.current != nil || right.current != nil {
            if case .insert(let text)? = left.current {
                aPrime.insert(text)
                bPrime.retain(text.utf16.count)
                left.advance()
                continue
            }
            if case .insert(let text)? = right.current {
                aPrime.retain(text.utf16.count)
                bPrime.insert(text)
                right.advance()
                continue
            }
            guard let l = left.current, let r = right.current else {
                preconditionFailure("transform: equal base lengths cannot run out on one side")
            }
            let count = min(l.span, r.span)
            switch (l, r) {
            case (.retain, .retain):
                aPrime.retain(count)
                bPrime.retain(count)
            case (.delete, .delete):
                break
            case (.delete, .retain):
                aPrime.delete(count)
            case (.retain, .delete):
                bPrime.delete(count)
            default:
                preconditionFailure("inserts were handled above")
            }
            left.consume(count)
            right.consume(count)
        }
        return (aPrime, bPrime)
    }

    /// Where `position` (a caret, a selection end) moves when this operation is applied: after an
    /// insert at that very position when `afterInserts`, else before it.
    public func transform(position: Int, afterInserts: Bool = true) -> Int {
        var moved = position
        var walked = 0
        for component in components {
            guard walked <= position else { break }
            switch component {
            case .retain(let count):
                walked += count
            case .insert(let text):
                if walked < position || afterInserts { moved += text.utf16.count }
            case .delete(let count):
                moved -= min(count, position - walked)
                walked += count
            }
        }
        return moved
    }
}

/// Walks an operation's components, splitting a retain or delete when the other side ends first.
struct ComponentCursor {
    private let components: [TextOperation.Component]
    private var index = 0
    private var used = 0

    init(_ components: [TextOperation.Component]) {
        self.components = components
    }

    /// The rest of the current component, or nil at the end.
    var current: TextOperation.Component? {
        guard index < components.count else { return nil }
        switch components[index] {
        case .retain(let count): return .retain(count - used)
        case .delete(let count): return .delete(count - used)
        case .insert(let text): return .insert(text)
        }
    }

    /// Moves past the current component.
    mutating func advance() {
        index += 1
        used = 0
    }

    /// Uses `count` positions of the current retain or delete.
    mutating func consume(_ count: Int) {
        used += count
        if case .some(let component) = current, component.span == 0 { advance() }
    }
}

extension TextOperation.Component {
    /// Positions of the base document the component covers (an insert covers none).
    var span: Int {
        switch self {
        case .retain(let count), .delete(let count): count
        case .insert: 0
        }
    }
}
