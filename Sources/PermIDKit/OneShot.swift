import Dispatch
import Synchronization

/// A value that arrives once, from another thread: the one way a result crosses threads in permid.
/// The producer calls ``fulfill(_:)``; a consumer either blocks in ``wait()`` or registers a callback
/// with ``whenDone(_:)``, which runs on the fulfilling thread (or at once, if the value is there).
///
/// Inlinable, so the modules that use it get code specialized for their values: every announcement
/// passes through three of these, and generic code looks up type metadata at run time.
public final class OneShot<Value: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var value: Value?
        @usableFromInline var callbacks: [@Sendable (Value) -> Void] = []

        @inlinable init() {}
    }

    @usableFromInline let state = Mutex(State())

    /// Makes an empty one-shot.
    @inlinable public init() {}

    /// Makes a one-shot that already holds `value`.
    @inlinable public init(_ value: Value) { state.withLock { $0.value = value } }

    /// Delivers the value; calls every registered callback. A second call is ignored.
    @inlinable public func fulfill(_ value: Value) {
        let callbacks = state.withLock { state -> [@Sendable (Value) -> Void] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.callbacks = [] }
            return state.callbacks
        }
        for callback in callbacks { callback(value) }
    }

    /// Calls `body` with the value once it is there: now, if it already is.
    @inlinable public func whenDone(_ body: @escaping @Sendable (Value) -> Void) {
        let ready = state.withLock { state -> Value? in
            if let value = state.value { return value }
            state.callbacks.append(body)
            return nil
        }
        if let ready { body(ready) }
    }

    /// A one-shot holding `transform` of this one's value.
    @inlinable public func map<T: Sendable>(_ transform: @escaping @Sendable (Value) -> T) -> OneShot<T> {
        let mapped = OneShot<T>()
        whenDone { mapped.fulfill(transform($0)) }
        return mapped
    }

    /// Blocks the calling thread until the value is there, and returns it.
    @inlinable public func wait() -> Value {
        let semaphore = DispatchSemaphore(value: 0)
        whenDone { _ in semaphore.signal() }
        semaphore.wait()
        return state.withLock { $0.value! }
    }
}
