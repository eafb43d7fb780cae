import PermIDClient

/// A failure reported as one line on stderr with a documented exit status.
struct CLIFailure: Error {
    /// The documented exit statuses.
    enum Status: Int32 {
        case usage = 1
        case notFound = 2
        case verificationFailed = 3
        case server = 4
        case local = 5
        case notShared = 6
    }

    let status: Status
    let message: String

    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The library's error with the exit status its kind has.
    init(_ error: ClientError) {
        switch error {
        case .unreachable, .refused, .untrustworthyAnswer: status = .server
        case .unverifiable: status = .verificationFailed
        case .local: status = .local
        case .invalidArgument: status = .usage
        }
        message = error.description
    }
}
