/// A failure reported as one line on stderr with a documented exit status.
struct CLIFailure: Error {
    /// The documented exit statuses.
    enum Status: Int32 {
        case usage = 1
        case notFound = 2
        case verificationFailed = 3
        case server = 4
        case local = 5
    }

    let status: Status
    let message: String

    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
