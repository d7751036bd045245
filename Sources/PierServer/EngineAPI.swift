import PierEngine

extension Router {
    /// Every route of the Engine API that Pier serves, wired to one engine.
    public static func engineAPI(_ engine: Engine) -> Router {
        var router = Router()
        router.addSystemRoutes(engine)
        router.addImageRoutes(engine)
        router.addContainerRoutes(engine)
        router.addNetworkRoutes(engine)
        router.addVolumeRoutes(engine)
        router.addPierRoutes(engine)
        router.addRegistryRoutes(engine)
        router.addBuildRoutes(engine)
        return router
    }
}
