import Foundation
import Testing

/// Every option whose help names a `PERMIDD_*` variable reads it: a bad value from the environment is
/// refused naming the option, as the same value on the command line would be.
@Suite struct EnvironmentTests {
    @Test func everyAdvertisedVariableIsRead() throws {
        let help = try Processes.run("permidd", ["serve", "--help"]).stdout
        let words = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let variables = Set(words.matches(of: /\(env: (PERMIDD_[A-Z0-9_]+)\)/).map { String($0.1) })
        #expect(variables.count >= 30, "\(variables.sorted())")
        // These take any text (a path, a flag that is off unless truthy), so a bad value cannot be told apart.
        let anyText: Set = ["PERMIDD_DATABASE", "PERMIDD_ALLOW_PRIVATE"]
        let directory = NSTemporaryDirectory() + "permid-env-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for variable in variables.subtracting(anyText).sorted() {
            let option = "--" + variable.dropFirst("PERMIDD_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            // The command line wins over the environment, so the option tested is not given on it.
            let listen = variable == "PERMIDD_LISTEN" ? [] : ["--listen", "127.0.0.1:0"]
            let run = try Processes.run(
                "permidd", ["serve", "--database", directory + "/p.sqlite"] + listen,
                environment: [variable: "@not-a-value@"], timeout: 20)
            #expect(run.status != 0 && run.stderr.contains(option), "\(variable) was not read: status \(run.status), \(run.stderr.prefix(300))")
        }
    }
}
