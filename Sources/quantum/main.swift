import Glibc
import Quantum

let status = await QuantumCommand().run(Array(CommandLine.arguments.dropFirst()))
exit(status)
