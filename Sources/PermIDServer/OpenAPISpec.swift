/// The OpenAPI document served at `/openapi.yaml`: the repository's top-level `openapi.yaml`,
/// compiled in by the EmbedFiles build plugin, ready to hand to libmicrohttpd.
enum OpenAPISpec {
    static let response = ResponseBytes(Array(embeddedOpenAPI.first?.text.utf8 ?? "".utf8))
}
