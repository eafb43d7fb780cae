import PermIDServer
import Testing

@Suite struct TokenBucketLimiterTests {
    @Test func burstThenRateWithRetryAfter() {
        let limiter = TokenBucketLimiter(rate: 2, burst: 3)
        let key: [UInt8] = [1, 2, 3, 4]
        for _ in 0..<3 { #expect(limiter.take(key, now: 0) == nil) }
        #expect(limiter.take(key, now: 0) == 1)
        #expect(limiter.wait(key, now: 0.5) == nil, "half a second at 2/s refills one token")
        #expect(limiter.wait(key, now: 0.5) == nil, "wait does not spend it")
        #expect(limiter.take(key, now: 0.5) == nil)
        #expect(limiter.take(key, now: 0.5) == 1)
        #expect(limiter.take([9], now: 0) == nil, "keys are independent")
    }

    @Test func memoryStaysBoundedUnderManyDistinctKeys() {
        let limiter = TokenBucketLimiter(rate: 1, burst: 10, capacity: 1_000)
        for index in 0..<100_000 {
            _ = limiter.take([UInt8(index & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index >> 16)], now: Double(index) / 100_000)
        }
        #expect(limiter.count <= 1_000, "\(limiter.count) keys remembered")
        #expect(limiter.count > 0)
    }
}
