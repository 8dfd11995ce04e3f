import Foundation

/// An HTTP/1.1 response as read off a raw connection.
struct RawHTTPResponse: Sendable, CustomStringConvertible {
    /// The status line, e.g. `HTTP/1.1 400 Bad Request`.
    let statusLine: String
    let status: Int
    /// Header fields, names in lower case.
    let headers: [String: String]
    let body: String

    var description: String { "\(statusLine) \(headers) \(body)" }

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    /// The `code` of an error body `{"error": {"code", "message"}}`.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }

    /// The `message` of an error body.
    var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }

    /// The responses in `bytes`, in order; bodies are delimited by `Content-Length` (no body
    /// without it). A response cut short ends the list.
    static func parseAll(_ bytes: [UInt8]) -> [RawHTTPResponse] {
        var responses: [RawHTTPResponse] = []
        var rest = bytes[...]
        let blank = Array("\r\n\r\n".utf8)
        while let range = rest.firstRange(of: blank) {
            let head = String(decoding: rest[rest.startIndex..<range.lowerBound], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard rest.endIndex - range.upperBound >= length else { break }
            let body = String(decoding: rest[range.upperBound..<(range.upperBound + length)], as: UTF8.self)
            let parts = statusLine.split(separator: " ")
            responses.append(
                RawHTTPResponse(
                    statusLine: statusLine, status: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, headers: headers,
                    body: body))
            rest = rest[(range.upperBound + length)...]
        }
        return responses
    }
}
