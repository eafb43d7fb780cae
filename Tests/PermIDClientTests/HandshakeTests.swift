import PermIDClient
import PermIDKit
import Testing

@Test func placeholder() {}
