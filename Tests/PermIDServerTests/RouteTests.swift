import PermIDServer
import Testing

/// Paths to routes: each resource, and the near misses (extra, empty or doubled segments) that match nothing.
@Suite struct RouteTests {
    @Test(arguments: [
        ("/healthz", Route.health), ("/readyz", .ready), ("/metrics", .metrics), ("/openapi.yaml", .openAPI),
        ("/v1/peers", .peers), ("/v1/whoami", .whoami), ("/v1/stats", .stats), ("/v1/peers/lookup", .lookup),
        ("/v1/peers/MCowBQYDK2VwAyEA", .peer("MCowBQYDK2VwAyEA")), ("/v1/peers/%41", .peer("%41")),
    ])
    func recognisesEachResource(path: String, route: Route) {
        #expect(Route(path: path) == route)
    }

    @Test(arguments: [
        "", "/", "//", "healthz", "/healthz/", "//healthz", "/v1", "/v1/", "/v1/peers/", "/v1//peers",
        "/v1/peers/x/", "/v1/peers/x/y", "/v2/peers", "/v1/peer/x", "/V1/peers", "/v1/stats/x", "/healthzz", "/a/b/c/d/e",
    ])
    func matchesNothingElse(path: String) {
        #expect(Route(path: path) == .unknown)
    }
}
