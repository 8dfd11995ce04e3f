/// `{"type": "cursor", "anchor": A, "head": H, "version": V}`: a client's selection (a caret when
/// `anchor == head`) in the document at version `V`.
package struct CursorFrame: Decodable {
    let anchor: Int
    let head: Int
    let version: Int64
}
