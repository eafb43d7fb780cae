import Foundation

// permidd: the PermID directory server. Options may also come from PERMIDD_* environment variables.
Permidd.main(EnvironmentDefaults.arguments(CommandLine.arguments, environment: ProcessInfo.processInfo.environment))
