import Foundation

/// Turns `PERMIDD_*` environment variables into command-line options that were not given explicitly.
enum EnvironmentDefaults {
    /// Options (by long name) each subcommand reads, and whether they are flags or repeatable.
    private static let options: [String: [(name: String, kind: Kind)]] = [
        "serve": [
            ("listen", .repeatable), ("database", .value), ("sync", .value), ("endpoint-policy", .value),
            ("allow-private", .flag), ("trusted-proxy", .repeatable), ("rate-limit", .value), ("source-rate", .value),
            ("source-burst", .value), ("permid-rate", .value), ("permid-burst", .value), ("max-ttl", .value),
            ("clock-skew", .value), ("threads", .value), ("connection-limit", .value), ("per-ip-connection-limit", .value),
            ("connection-timeout", .value), ("sweep-interval", .value), ("log-level", .value), ("log-format", .value),
            ("proxy-header", .value), ("ipv6-prefix", .value), ("source-rate-limit", .value), ("permid-rate-limit", .value),
            ("connection-memory-limit", .value), ("body-memory-limit", .value), ("max-wait", .value), ("max-watchers", .value),
            ("max-watchers-per-source", .value), ("shutdown-grace", .value),
        ],
        "migrate": [("database", .value)],
        "export": [("database", .value)],
        "import": [("database", .value), ("sync", .value), ("clock-skew", .value), ("max-ttl", .value)],
        "backup": [("database", .value)],
    ]

    enum Kind { case value, flag, repeatable }

    /// The arguments to parse: the command line plus options taken from the environment.
    static func arguments(_ commandLine: [String], environment: [String: String]) -> [String] {
        let arguments = Array(commandLine.dropFirst())
        let subcommand = arguments.first.flatMap { options[$0] != nil ? $0 : nil } ?? "serve"
        if arguments.first != subcommand && !(arguments.first?.hasPrefix("-") ?? true) { return arguments }
        var extra = [String]()
        for (name, kind) in options[subcommand] ?? [] {
            let variable = "PERMIDD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            guard let value = environment[variable],
                  !arguments.contains(where: { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") }) else { continue }
            switch kind {
            case .flag: if ["1", "true", "yes", "on"].contains(value.lowercased()) { extra.append("--\(name)") }
            case .value: extra += ["--\(name)", value]
            case .repeatable:
                for item in value.split(separator: ",") { extra += ["--\(name)", String(item)] }
            }
        }
        if extra.isEmpty { return arguments }
        if arguments.first == subcommand { return [subcommand] + extra + arguments.dropFirst() }
        return ["serve"] + extra + arguments
    }
}
