import Foundation
import PierAPI
import Synchronization

/// One entry of `GET /events`, as Docker writes it (the old `status`/`id`/`from` fields too,
/// which the docker CLI still prints for containers).
public struct EngineEvent: Codable, Sendable {
    public struct EventActor: Codable, Sendable {
        public var ID: String
        public var Attributes: [String: String]
    }

    public var status: String?
    public var id: String?
    public var from: String?
    public var `Type`: String
    public var Action: String
    public var Actor: EventActor
    public var scope: String
    public var time: Int64
    public var timeNano: Int64

    public init(type: String, action: String, id: String, attributes: [String: String]) {
        let now = Date().timeIntervalSince1970
        self.Type = type
        self.Action = action
        self.Actor = EventActor(ID: id, Attributes: attributes)
        scope = "local"
        time = Int64(now)
        timeNano = Int64(now * 1e9)
        if type == "container" || type == "image" {
            status = action
            self.id = id
            from = attributes["image"]
        }
    }

    /// Whether the event passes `filters` (`type`, `event`, `container`, `image`, `label`), as Docker
    /// applies them: values of one key are alternatives, different keys must all match.
    public func matches(_ filters: [String: [String]]) -> Bool {
        for (key, values) in filters where !values.isEmpty {
            let passes: Bool
            switch key {
            case "type": passes = values.contains(Type)
            case "event": passes = values.contains { Action == $0 || Action.hasPrefix($0 + ":") }
            case "container":
                passes = Type == "container" && values.contains {
                    self.Actor.ID.hasPrefix($0) || self.Actor.Attributes["name"] == $0
                }
            case "image":
                passes = values.contains { self.Actor.Attributes["image"] == $0 || (Type == "image" && self.Actor.ID == $0) }
            case "label":
                passes = values.allSatisfy { item in
                    let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                    guard let value = self.Actor.Attributes[parts[0]] else { return false }
                    return parts.count == 1 || value == parts[1]
                }
            default: passes = true
            }
            if !passes { return false }
        }
        return true
    }
}

/// pierd's event stream: what happened to containers and images, kept in memory (the last
/// 1,000 events, for `--since`) and fanned out to every `GET /events` client.
public final class EventBus: Sendable {
    static let kept = 1000
    private struct State {
        var recent: [EngineEvent] = []
        var subscribers: [Int: AsyncStream<EngineEvent>.Continuation] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    public init() {}

    public func publish(_ event: EngineEvent) {
        let subscribers = state.withLock { state in
            state.recent.append(event)
            if state.recent.count > EventBus.kept { state.recent.removeFirst(state.recent.count - EventBus.kept) }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Events from `since` (Unix nanoseconds) on, then those still to come; call `cancel` when done.
    public func subscribe(since: Int64?) -> (past: [EngineEvent], future: AsyncStream<EngineEvent>, cancel: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self, bufferingPolicy: .bufferingNewest(10_000))
        let (past, key) = state.withLock { state in
            let key = state.next
            state.next += 1
            state.subscribers[key] = continuation
            return (since.map { since in state.recent.filter { $0.timeNano >= since } } ?? [], key)
        }
        let cancel: @Sendable () -> Void = { [weak self] in
            let removed = self?.state.withLock { $0.subscribers.removeValue(forKey: key) }
            removed?.finish()
        }
        return (past, stream, cancel)
    }
}
