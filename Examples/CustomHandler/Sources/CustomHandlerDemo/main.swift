import Glibc
import Quantum

// The standard modules plus our own; then the usual `quantum` command line:
//   swift run CustomHandlerDemo run --config greeting.json
var registry = StandardModules.registry
registry.register(Greeting.self)
exit(await QuantumCommand(registry: registry).run(Array(CommandLine.arguments.dropFirst())))
