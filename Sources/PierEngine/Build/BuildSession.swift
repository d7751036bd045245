import Foundation
import PierArchive
import PierDockerfile
import PierOCI
import PierRegistry
import PierStore
import Synchronization

/// One build: its scratch directory (the unpacked context, staged layers), the stages and
/// their results, the step counter. The build's own session sets up and finishes the build;
/// each stage runs on a thread of its own with a session of its own (`init(stageOf:...)`),
/// which shares the build's settings and, through `BuildShared`, the stages' results.
final class BuildSession: @unchecked Sendable {
    let builder: Builder
    let options: BuildOptions
    let cancellation: BuildCancellation
    let output: @Sendable (BuildEvent) -> Void
    /// Pins what this build has written until the image that references it is named.
    let token: UUID
    let workDirectory: String
    var contextDirectory: String { workDirectory + "/context" }
    var store: ImageStore { builder.transfer.store }

    // Set up by `run()` before any stage runs, read-only afterwards.
    var ignore: DockerIgnore?
    var escape: Unicode.Scalar = "\\"
    var stages = BuildStages(globalArguments: [], stages: [])
    /// Values of the ARGs declared before the first FROM.
    var globalArguments: [String: String] = [:]
    var totalSteps = 0
    let shared: BuildShared
    /// The number of the step last announced by this session.
    var step = 0
    /// The `SOURCE_DATE_EPOCH` build arg: history and config times are set to it and file times
    /// in new layers clamped to it, so the same sources make the same image ID anywhere.
    var sourceDateEpoch: Int64?

    init(builder: Builder, options: BuildOptions, cancellation: BuildCancellation,
         output: @escaping @Sendable (BuildEvent) -> Void) throws {
        self.builder = builder
        self.options = options
        self.cancellation = cancellation
        self.output = output
        token = UUID()
        shared = BuildShared()
        workDirectory = builder.scratch + "/build-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: workDirectory + "/context", withIntermediateDirectories: true)
    }

    /// The session of one stage: the build's settings, its own output and step numbers.
    init(stageOf build: BuildSession, firstStep: Int, cancellation: BuildCancellation,
         output: @escaping @Sendable (BuildEvent) -> Void) {
        builder = build.builder
        options = build.options
        self.cancellation = cancellation
        self.output = output
        token = build.token
        workDirectory = build.workDirectory
        shared = build.shared
        ignore = build.ignore
        escape = build.escape
        stages = build.stages
        globalArguments = build.globalArguments
        totalSteps = build.totalSteps
        sourceDateEpoch = build.sourceDateEpoch
        step = firstStep
    }

    func close() {
        try? FileManager.default.removeItem(atPath: workDirectory)
        store.pins.release(token)
    }

    /// Unpacks the context tar (streamed from the request body).
    func receive(_ source: ArchiveSource) throws {
        _ = try LayerExtractor.extract(from: source, into: contextDirectory, mode: .apply)
    }

    /// A fresh directory inside the build's scratch space.
    func makeScratchDirectory(_ prefix: String) throws -> String {
        let path = "\(workDirectory)/\(prefix)-\(shared.nextScratchNumber())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    // MARK: output

    func emit(_ text: String) throws {
        if cancellation.isCancelled { throw EngineError(.internalError, "build cancelled") }
        if !options.quiet { output(.stream(text)) }
    }

    func announce(_ instruction: Instruction) throws {
        step += 1
        try emit("Step \(step)/\(totalSteps) : \(BuildSession.displayText(instruction))\n")
    }

    /// An instruction as Docker's legacy builder prints it: one line, continuations joined.
    static func displayText(_ instruction: Instruction) -> String {
        var text = instruction.original
        if !instruction.heredocs.isEmpty, let firstLine = text.split(separator: "\n").first { text = String(firstLine) }
        text = text.replacingOccurrences(of: "\\\n", with: "").replacingOccurrences(of: "\n", with: " ")
        return text.trimmingCharacters(in: .whitespaces)
    }

    // MARK: the build

    func run() throws -> Digest {
        let dockerfilePath = try contextPath(options.dockerfile, what: "Dockerfile")
        guard let bytes = FileManager.default.contents(atPath: dockerfilePath) else {
            throw EngineError(.invalidArgument, "Cannot locate specified Dockerfile: \(options.dockerfile)")
        }
        // A Dockerfile the client added from outside the context (`-f -`, `-f ../x`) is not part of it.
        if (options.dockerfile as NSString).lastPathComponent.hasPrefix(".dockerfile.") { unlink(dockerfilePath) }
        // `NAME.Dockerfile.dockerignore` beside the Dockerfile wins over the context's `.dockerignore`.
        let specificIgnore = try contextPath(options.dockerfile + ".dockerignore", what: "ignore file")
        if let ignoreBytes = FileManager.default.contents(atPath: specificIgnore)
            ?? FileManager.default.contents(atPath: contextDirectory + "/.dockerignore") {
            ignore = try DockerIgnore(String(decoding: ignoreBytes, as: UTF8.self))
        }
        let names = try options.tags.map { tag throws(EngineError) -> ImageReference in
            do { return try ImageReference(parsing: tag) } catch {
                throw EngineError(.invalidArgument, "invalid tag \"\(tag)\": invalid reference format")
            }
        }
        let dockerfile = try Dockerfile(parsing: [UInt8](bytes))
        escape = dockerfile.escape
        stages = try dockerfile.stages()
        guard !stages.stages.isEmpty else {
            throw EngineError(.invalidArgument, "the Dockerfile (\(options.dockerfile)) cannot be empty")
        }
        for warning in dockerfile.warnings { try emit("[WARNING]: \(warning)\n") }
        if let platform = options.platform, !platform.isEmpty {
            _ = try BuildSession.buildablePlatform(platform) { "--platform=\(platform): \($0)" }
        }
        try evaluateGlobalArguments()
        if let given = options.buildArgs["SOURCE_DATE_EPOCH"], let given {
            guard let epoch = Int64(given), epoch >= 0 else {
                throw EngineError(.invalidArgument, "invalid SOURCE_DATE_EPOCH \(given): give seconds since 1970")
            }
            sourceDateEpoch = epoch
            shared.consume("SOURCE_DATE_EPOCH")
        }

        let target: Int
        if let name = options.target, !name.isEmpty {
            guard let index = stageIndex(name) else {
                throw EngineError(.invalidArgument, "failed to reach build target \(name) in Dockerfile: no stage is named \(name)")
            }
            target = index
        } else {
            target = stages.stages.count - 1
        }
        let order = try plan(target)
        totalSteps = order.reduce(0) { $0 + 1 + stages.stages[$1].instructions.count } + (options.labels.isEmpty ? 0 : 1)
        var run = try buildStages(order, target: target)
        if !options.labels.isEmpty {
            step += 1
            let text = options.labels.sorted { $0.key < $1.key }.map { "\(goQuoted($0.key))=\(goQuoted($0.value))" }.joined(separator: " ")
            try emit("Step \(step)/\(totalSteps) : LABEL \(text)\n")
            try commitStep(&run, createdBy: nop("LABEL \(text)"), layer: false) { state in
                var config = state.config.config ?? ContainerConfig()
                var labels = config.Labels ?? [:]
                for (key, value) in options.labels { labels[key] = value }
                config.Labels = labels
                state.config.config = config
            }
        }
        let consumedArguments = shared.consumedArguments
        let unused = options.buildArgs.keys.filter {
            !consumedArguments.contains($0) && !BuildSession.predefinedArguments.contains($0) && BuildSession.platformArguments[$0] == nil
        }
        if !unused.isEmpty {
            try emit("[Warning] One or more build-args [\(unused.sorted().joined(separator: " "))] were not consumed\n")
        }
        let record = try commitImage(run.state, names: names)
        output(.imageID(record.id))
        // With -q the daemon's only line is the ID (what `docker build -q` prints).
        if options.quiet { output(.stream(record.id.description + "\n")) }
        try emit("Successfully built \(record.id.shortID)\n")
        for name in names { try emit("Successfully tagged \(name.familiarDescription)\n") }
        builder.logger.info("built image", metadata: ["id": "\(record.id)", "names": "\(names.map(\.familiarDescription))"])
        return record.id
    }

    /// Writes the image's config and manifest and names it, in one durable catalog write; a
    /// rebuild that changes nothing (same image, same names) writes nothing.
    func commitImage(_ state: BuildState, names: [ImageReference]) throws -> ImageRecord {
        let configBytes = try ImageTransfer.encode(state.config)
        let configDigest = Digest.sha256(of: configBytes)
        let manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
            layers: state.layers.map(\.descriptor))
        let manifestBytes = try ImageTransfer.encode(manifest)
        let manifestDigest = Digest.sha256(of: manifestBytes)
        store.pins.pin([configDigest, manifestDigest], token: token)
        if !store.content.contains(configDigest) { try store.content.put(configBytes, expected: configDigest) }
        if !store.content.contains(manifestDigest) { try store.content.put(manifestBytes, expected: manifestDigest) }
        if let existing = store.index.image(id: configDigest), existing.manifest == manifestDigest,
           names.allSatisfy({ store.index.resolve($0.description)?.id == configDigest }) {
            return existing
        }
        let record = ImageRecord(
            id: configDigest, manifest: manifestDigest, manifestMediaType: MediaType.ociManifest,
            created: state.config.created.flatMap(Timestamp.parse) ?? 0,
            size: state.layers.reduce(Int64(0)) { $0 + $1.unpackedSize }, labels: state.config.config?.Labels)
        try store.index.put(record, tags: names, time: Timestamp.now())
        return record
    }

    /// Proxy variables Docker passes to RUN without an ARG and never warns about.
    static let predefinedArguments: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
        "ALL_PROXY", "all_proxy",
    ]

    /// A `--platform` or `FROM --platform` value, which must name the host's platform: Pier runs
    /// RUN steps natively, with no emulator for another architecture.
    static func buildablePlatform(_ specifier: String, _ message: (String) -> String) throws -> Platform {
        let host = Platform.host
        guard let platform = Platform(specifier: specifier) else {
            throw EngineError(.invalidArgument, message("invalid platform: use os/arch[/variant], such as \(host)"))
        }
        guard platform.isCompatible(with: host) else {
            throw EngineError(.invalidArgument, message("no emulation: Pier runs RUN steps natively on this \(host) machine "
                                                         + "and can only build for \(host), not \(platform)"))
        }
        return host
    }

    /// BuildKit's automatic platform arguments: usable in FROM, and in a stage once declared. The
    /// target platform is always the build platform (see `buildablePlatform`).
    static var platformArguments: [String: String] {
        let host = Platform.host
        let platform = host.description
        var values: [String: String] = [:]
        for prefix in ["TARGET", "BUILD"] {
            values[prefix + "PLATFORM"] = platform
            values[prefix + "OS"] = host.os
            values[prefix + "ARCH"] = host.architecture
            values[prefix + "VARIANT"] = host.variant ?? ""
        }
        return values
    }

    func evaluateGlobalArguments() throws {
        globalArguments = BuildSession.platformArguments
        for argument in stages.globalArguments {
            shared.consume(argument.name)
            if let given = options.buildArgs[argument.name], let given {
                globalArguments[argument.name] = given
            } else if let value = argument.defaultValue {
                globalArguments[argument.name] = try ShellLexer(escape: escape).expand(value, environment: globalArguments)
            }
        }
    }

    /// A path inside the context; refuses one that climbs out of it.
    func contextPath(_ path: String, what: String) throws -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else {
                    throw EngineError(.invalidArgument, "forbidden path outside the build context: \(path)")
                }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return contextDirectory + (parts.isEmpty ? "" : "/" + parts.joined(separator: "/"))
    }

    // MARK: stages

    func stageIndex(_ reference: String) -> Int? {
        let lowered = reference.lowercased()
        if let index = stages.stages.firstIndex(where: { $0.name == lowered }) { return index }
        if let index = Int(reference), stages.stages.indices.contains(index) { return index }
        return nil
    }

    /// The base of a stage, expanded with the global ARGs.
    func baseName(of index: Int) throws -> String {
        let stage = stages.stages[index]
        do {
            return try ShellLexer(escape: escape).expand(stage.baseImage, environment: globalArguments)
        } catch {
            throw stepError(stage.source.startLine, error.message)
        }
    }

    /// The stages a stage needs: its FROM when that names an earlier stage, and every `COPY --from`
    /// that names a stage.
    func dependencies(of index: Int) throws -> [(Int, line: Int)] {
        var result: [(Int, line: Int)] = []
        let base = try baseName(of: index)
        if let dependency = stages.stages[..<index].lastIndex(where: { $0.name == base.lowercased() }) {
            result.append((dependency, stages.stages[index].source.startLine))
        }
        for instruction in stages.stages[index].instructions {
            let line = instruction.source.startLine
            switch instruction.instruction {
            case .copy(let copy):
                guard let from = copy.from else { continue }
                let name = (try? ShellLexer(escape: escape).expand(from, environment: globalArguments)) ?? from
                if let dependency = stageIndex(name) {
                    result.append((dependency, line))
                } else if Int(name) != nil {
                    throw stepError(line, "COPY --from=\(name): there is no stage \(name) "
                                    + "(stages are numbered from 0; this Dockerfile has \(stages.stages.count))")
                }
            case .run(let run):
                // `from=` of a mount takes no variables; a malformed mount is reported when its step runs.
                for mount in (try? run.mounts()) ?? [] {
                    if let from = mount.from, let dependency = stageIndex(from) { result.append((dependency, line)) }
                }
            default:
                continue
            }
        }
        return result
    }

    /// Builds the stages in `order` (dependencies first), each on a thread of its own as soon as
    /// the stages it needs are built, so independent stages run at once; returns the target's.
    /// Steps keep the numbers and the output the order of a build one stage after another (see
    /// `StageOutputs`). The first failure stops the other stages and is the build's error.
    func buildStages(_ order: [Int], target: Int) throws -> StageRun {
        var needs: [Int: Set<Int>] = [:]
        var firstSteps: [Int: Int] = [:]
        for index in order {
            needs[index] = Set(try dependencies(of: index).map(\.0))
            firstSteps[index] = step
            step += 1 + stages.stages[index].instructions.count
        }
        let outputs = StageOutputs(order: order, output: output)
        let stopped = BuildCancellation()
        let completions = StageCompletions()
        var started: Set<Int> = []
        var built: [Int: StageRun] = [:]
        var failure: (any Error)?
        var running = 0
        while true {
            for index in order where failure == nil && !started.contains(index) && needs[index, default: []].isSubset(of: built.keys) {
                started.insert(index)
                running += 1
                let session = BuildSession(stageOf: self, firstStep: firstSteps[index] ?? 0, cancellation: stopped,
                                           output: outputs.sink(for: index))
                let shared = self.shared
                Thread.detachNewThread {
                    do {
                        let run = try session.buildStage(index, isTarget: index == target)
                        shared.setResult(index, run.state)
                        outputs.finish(index)
                        completions.add(index, .success(run))
                    } catch {
                        completions.add(index, .failure(error))
                    }
                }
            }
            if running == 0 { break }
            // The client's Ctrl-C reaches the stages through `stopped`.
            while !completions.wait(milliseconds: 200) {
                if cancellation.isCancelled { stopped.cancel() }
            }
            for (index, result) in completions.take() {
                running -= 1
                switch result {
                case .success(let run):
                    built[index] = run
                case .failure(let error):
                    if failure == nil { failure = error }
                    stopped.cancel()
                }
            }
        }
        if let failure {
            outputs.flushAll()
            throw failure
        }
        guard let run = built[target] else { throw EngineError(.internalError, "the target stage was not built") }
        return run
    }

    /// The stages to build for `target`, dependencies first; fails on a cycle.
    func plan(_ target: Int) throws -> [Int] {
        var order: [Int] = []
        var state: [Int: Bool] = [:]  // false: being visited, true: done
        func visit(_ index: Int, line: Int) throws {
            if state[index] == true { return }
            if state[index] == false {
                let name = stages.stages[index].name ?? "\(index)"
                throw stepError(line, "circular dependency detected on stage: \(name)")
            }
            state[index] = false
            for (dependency, dependencyLine) in try dependencies(of: index) {
                try visit(dependency, line: dependencyLine)
            }
            state[index] = true
            order.append(index)
        }
        try visit(target, line: stages.stages[target].source.startLine)
        return order
    }

    func buildStage(_ index: Int, isTarget: Bool) throws -> StageRun {
        let stage = stages.stages[index]
        try announce(stage.source)
        let base = try baseName(of: index)
        if let platform = stage.platform {
            let line = stage.source.startLine
            let expanded: String
            do { expanded = try ShellLexer(escape: escape).expand(platform, environment: globalArguments) } catch {
                throw stepError(line, error.message)
            }
            _ = try BuildSession.buildablePlatform(expanded) { "Dockerfile:\(line): FROM --platform=\(platform): \($0)" }
        }
        var run: StageRun
        if base.lowercased() == "scratch" {
            let state = BuildState.scratch
            run = StageRun(state: state, id: try state.imageID())
        } else if let dependency = stages.stages[..<index].lastIndex(where: { $0.name == base.lowercased() }),
                  let state = shared.result(dependency) {
            run = StageRun(state: state, id: try state.imageID())
        } else {
            if options.pull { try pullBase(base, line: stage.source.startLine) }
            let state = try imageState(base, line: stage.source.startLine, instruction: "FROM")
            let image = Platform(architecture: state.state.config.architecture, os: state.state.config.os,
                                 variant: state.state.config.variant)
            if !image.architecture.isEmpty, !image.isCompatible(with: .host) {
                throw stepError(stage.source.startLine, "FROM \(base): the image is for \(image) and Pier cannot run it on this "
                                + "\(Platform.host) machine (no emulation); use an image for \(Platform.host)")
            }
            run = StageRun(state: state.state, id: state.id)
        }
        try emit(" ---> \(run.id.shortID)\n")
        try runTriggers(&run, line: stage.source.startLine)
        for instruction in stage.instructions {
            if cancellation.isCancelled { throw EngineError(.internalError, "build cancelled") }
            try announce(instruction.source)
            try execute(instruction, run: &run)
        }
        return run
    }

    /// `--pull`: fetches a `FROM` image from its registry (with the client's login for it), as
    /// `docker pull` would, printing the pull's status lines into the build output. A registry
    /// that cannot be reached fails the step, as it does with Docker.
    func pullBase(_ name: String, line: Int) throws {
        let reference: ImageReference
        do { reference = try ImageReference(parsing: name) } catch {
            throw stepError(line, "FROM \(name): \(error.message)")
        }
        let lines = Mutex<[String]>([])
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let registry = builder.registry
        let login = RegistryAuthConfig.login(for: reference.domain, in: options.registryLogins)
        Task {
            do {
                try await registry.pull(fromImage: reference.description, tag: nil, platform: nil, auth: login) { progress in
                    if !progress.isLayer { lines.withLock { $0.append(progress.status) } }
                }
            } catch {
                failure.withLock { $0 = (error as? EngineError)?.message ?? "\(error)" }
            }
            done.signal()
        }
        done.wait()
        for text in lines.withLock({ $0 }) { try emit(text + "\n") }
        if let message = failure.withLock({ $0 }) {
            throw stepError(line, "FROM \(name): --pull could not pull \(reference.familiarDescription): \(message)")
        }
    }

    /// The state of a local image; a missing one is an error that says how to get it.
    func imageState(_ name: String, line: Int, instruction: String) throws -> (state: BuildState, id: Digest) {
        let image: ImageRecord
        do {
            image = try builder.transfer.images.resolve(name)
        } catch {
            if error.code == .notFound {
                let remedy = Bootstrapper.recipe(named: name).map { "make it first with `pier bootstrap \($0.name)`" }
                    ?? "pull it first (pier pull \(name)) or build it"
                throw stepError(line, "\(instruction) \(name): image \(name) is not present locally; \(remedy)",
                                code: .notFound)
            }
            throw error
        }
        let config = try store.config(of: image)
        let manifest = try store.manifest(of: image)
        let chain = chainIDs(of: config.rootfs.diff_ids)
        guard manifest.layers.count == chain.count else {
            throw EngineError(.internalError, "image \(name) is inconsistent: its manifest and config disagree on the layers")
        }
        var layers: [BuildLayer] = []
        for (index, descriptor) in manifest.layers.enumerated() {
            guard store.snapshots.contains(chain[index]) else {
                throw EngineError(.internalError, "image \(name) has no unpacked layer \(index + 1); pull or load it again")
            }
            layers.append(BuildLayer(descriptor: descriptor, diffID: config.rootfs.diff_ids[index], chainID: chain[index],
                                     unpackedSize: store.snapshots.unpackedSize(chain[index])))
        }
        store.pins.pin(chain + manifest.layers.map(\.digest), token: token)
        return (BuildState(config: config, layers: layers), image.id)
    }

    /// Runs the ONBUILD triggers of a stage's base, then drops them (they are not inherited).
    func runTriggers(_ run: inout StageRun, line: Int) throws {
        guard let triggers = run.state.config.config?.OnBuild, !triggers.isEmpty else { return }
        try emit("# Executing \(triggers.count) build trigger\(triggers.count == 1 ? "" : "s")\n")
        run.state.config.config?.OnBuild = nil
        run.id = try run.state.imageID()
        for trigger in triggers {
            let parsed: Dockerfile
            do { parsed = try Dockerfile(parsing: trigger) } catch {
                throw stepError(line, "invalid ONBUILD trigger \"\(trigger)\" in the base image: \(error.message)")
            }
            for instruction in parsed.instructions {
                let typed: TypedInstruction
                do { typed = try TypedInstruction(instruction) } catch {
                    throw stepError(line, "invalid ONBUILD trigger \"\(trigger)\" in the base image: \(error.message)")
                }
                switch typed {
                case .from, .onbuild:
                    throw stepError(line, "ONBUILD trigger \"\(trigger)\" is not allowed (FROM and ONBUILD cannot be triggers)")
                default:
                    var source = instruction
                    source.startLine = line
                    source.endLine = line
                    try execute(StageInstruction(instruction: typed, source: source), run: &run)
                }
            }
        }
    }

    // MARK: steps

    /// Runs one step through the cache: a hit takes the recorded state; a miss applies the
    /// step, records its history entry and stores the result.
    func commitStep(_ run: inout StageRun, createdBy: String, layer: Bool,
                    _ apply: (inout BuildState) throws -> Void) throws {
        let key = BuildCache.key(parent: run.id, step: sourceDateEpoch.map { "\(createdBy)\n#SOURCE_DATE_EPOCH=\($0)" } ?? createdBy)
        if !options.noCache, let cached = builder.cache.lookup(key) {
            store.pins.pin(cached.layers.flatMap { [$0.descriptor.digest, $0.chainID] }, token: token)
            run.state = cached
            run.id = try cached.imageID()
            try emit(" ---> Using cache\n ---> \(run.id.shortID)\n")
            return
        }
        var state = run.state
        try apply(&state)
        let now = sourceDateEpoch.map { Timestamp.format(seconds: $0) } ?? Timestamp.now()
        state.config.created = now
        state.config.history = (state.config.history ?? [])
            + [History(created: now, createdBy: createdBy, emptyLayer: layer ? nil : true)]
        builder.cache.record(key, state)
        run.state = state
        run.id = try state.imageID()
        try emit(" ---> \(run.id.shortID)\n")
    }

    /// A metadata step's history text, as Docker's legacy builder writes it.
    func nop(_ text: String) -> String { "/bin/sh -c #(nop) \(text)" }
}

/// What the stages of a build share while they run at once.
final class BuildShared: Sendable {
    private struct State {
        var results: [Int: BuildState] = [:]
        /// Build arguments some ARG declared (the rest draw Docker's "not consumed" warning).
        var consumedArguments: Set<String> = []
        var scratchCounter = 0
    }

    private let state = Mutex(State())

    func result(_ index: Int) -> BuildState? { state.withLock { $0.results[index] } }
    func setResult(_ index: Int, _ result: BuildState) { state.withLock { $0.results[index] = result } }
    func consume(_ name: String) { _ = state.withLock { $0.consumedArguments.insert(name) } }
    var consumedArguments: Set<String> { state.withLock { $0.consumedArguments } }

    func nextScratchNumber() -> Int {
        state.withLock { state in
            state.scratchCounter += 1
            return state.scratchCounter
        }
    }
}

/// The output of stages that run at once, in the order of a build one stage after another
/// (Docker's legacy format is a sequence of numbered steps): the first unfinished stage in
/// that order streams as it runs; a later one is held until every stage before it has finished.
final class StageOutputs: Sendable {
    private struct State {
        var position = 0
        var held: [Int: [BuildEvent]] = [:]
        var finished: Set<Int> = []
    }

    private let order: [Int]
    private let output: @Sendable (BuildEvent) -> Void
    private let state = Mutex(State())

    init(order: [Int], output: @escaping @Sendable (BuildEvent) -> Void) {
        self.order = order
        self.output = output
    }

    func sink(for index: Int) -> @Sendable (BuildEvent) -> Void {
        { [self] event in
            state.withLock { state in
                if state.position < order.count, order[state.position] == index {
                    output(event)
                } else {
                    state.held[index, default: []].append(event)
                }
            }
        }
    }

    /// A stage has finished: the next ones in order that have finished too are written out, and
    /// the first that has not streams from now on.
    func finish(_ index: Int) {
        state.withLock { state in
            state.finished.insert(index)
            while state.position < order.count, state.finished.contains(order[state.position]) {
                state.position += 1
                guard state.position < order.count else { break }
                for event in state.held.removeValue(forKey: order[state.position]) ?? [] { output(event) }
            }
        }
    }

    /// After a failure: whatever is still held, in order (the failed stage's last lines among it).
    func flushAll() {
        state.withLock { state in
            for index in order.dropFirst(state.position) {
                for event in state.held.removeValue(forKey: index) ?? [] { output(event) }
            }
            state.position = order.count
        }
    }
}

/// Stages that finished (or failed), for the thread that schedules them.
final class StageCompletions: Sendable {
    private let finished = Mutex<[(Int, Result<StageRun, any Error>)]>([])
    private let signal = DispatchSemaphore(value: 0)

    func add(_ index: Int, _ result: Result<StageRun, any Error>) {
        finished.withLock { $0.append((index, result)) }
        signal.signal()
    }

    /// Waits up to `milliseconds` for a completion; false when none came.
    func wait(milliseconds: Int) -> Bool {
        signal.wait(timeout: .now() + .milliseconds(milliseconds)) == .success
    }

    func take() -> [(Int, Result<StageRun, any Error>)] {
        finished.withLock { items in
            defer { items.removeAll() }
            return items
        }
    }
}

/// A stage while it is being built.
struct StageRun: Sendable {
    var state: BuildState
    /// The image ID of `state` (the base image's own ID right after FROM).
    var id: Digest
    /// Values of the ARGs this stage declared.
    var arguments: [String: String] = [:]
    /// Whether this stage set CMD (an ENTRYPOINT then keeps it; otherwise it clears the base's).
    var setsCommand = false

    var config: ContainerConfig {
        get { state.config.config ?? ContainerConfig() }
        set { state.config.config = newValue }
    }

    /// What variables expand to: the stage's ARGs, overridden by its ENV.
    var environment: [String: String] {
        var result = arguments
        for item in config.Env ?? [] {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }
}

/// Go's %q for simple strings (what Docker prints in LABEL history).
func goQuoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}
