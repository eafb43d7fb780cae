/// The OpenAPI document served at `/openapi.yaml`: the repository's top-level `openapi.yaml`,
/// compiled in by the EmbedFiles build plugin.
enum OpenAPISpec {
    static let bytes: [UInt8] = Array(embeddedOpenAPI.first?.text.utf8 ?? "".utf8)
}
