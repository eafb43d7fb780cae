/// The methods the directory knows. Anything else is ``other``: its text is never kept, logged or
/// used as a metric label, so invented methods cannot grow memory or forge log fields.
public enum HTTPMethod: String, Hashable, Sendable, CaseIterable {
    case get = "GET"
    case head = "HEAD"
    case put = "PUT"
    case post = "POST"
    case other = "OTHER"

    /// Classifies a method token as sent (case-sensitive, RFC 9110 §9.1). A known token makes a small
    /// String, with no allocation (passing `rawValue` to `strcmp` made a C copy of it each time).
    init(token: UnsafePointer<CChar>) {
        self = Self(rawValue: String(cString: token)) ?? .other
    }
}
