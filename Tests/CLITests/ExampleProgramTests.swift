import Foundation
import Testing

/// The example program (Examples/ClientExample) does what an app using PermIDClient would, against a real permidd.
@Suite struct ExampleProgramTests {
    @Test func theClientExampleRunsAgainstALiveDirectory() throws {
        let directory = try Directory()
        let run = try Processes.run("permid-client-example", [directory.url], environment: ["XDG_CONFIG_HOME": directory.directory + "/config"])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("example: ok"))
    }
}
