/// `{"type": "doc", "version": V, "text": "..."}`: the whole document, sent after `welcome` to a
/// client that does not resume from the log.
struct DocumentFrame: Encodable {
    let type = "doc"
    let version: Int64
    let text: String
}
