/// `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=...] CMD command`, in the shape of the
/// image config's `Healthcheck`.
public struct HealthcheckInstruction: Sendable, Equatable {
    /// `["NONE"]`, `["CMD", exec...]` or `["CMD-SHELL", "command"]`.
    public var test: [String]
    public var interval: Duration?
    public var timeout: Duration?
    public var startPeriod: Duration?
    public var startInterval: Duration?
    public var retries: Int?

    public init(test: [String], interval: Duration? = nil, timeout: Duration? = nil,
                startPeriod: Duration? = nil, startInterval: Duration? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }

    /// `HEALTHCHECK NONE`: turns off a check inherited from the base image.
    public var disablesCheck: Bool { test == ["NONE"] }
}
