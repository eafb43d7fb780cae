import PermIDKit

/// How a record's content sits in the `endpoints` and `sealed` columns of both backends (migration 0003):
/// an open record has its endpoints' wire form and no `sealed`; a sealed record has its boxes' wire form
/// and no `endpoints`.
struct StoredContent {
    /// The `endpoints` column.
    var endpoints: [UInt8]?
    /// The `sealed` column.
    var sealed: [UInt8]?

    /// The columns for `content`.
    init(_ content: RecordContent) {
        switch content {
        case .endpoints(let endpoints): (self.endpoints, sealed) = (Endpoint.encode(endpoints), nil)
        case .sealed(let boxes): (endpoints, sealed) = (nil, RecordContent.encode(boxes: boxes))
        }
    }

    /// The columns as read.
    init(endpoints: [UInt8]?, sealed: [UInt8]?) {
        self.endpoints = endpoints
        self.sealed = sealed
    }

    /// The content the columns hold; `nil` for a tombstone or bytes no writer of ours makes.
    var content: RecordContent? {
        switch (endpoints, sealed) {
        case (let endpoints?, nil): Endpoint.decode(endpoints).map(RecordContent.endpoints)
        case (nil, let sealed?): RecordContent.decode(boxes: sealed).map(RecordContent.sealed)
        default: nil
        }
    }
}
