"""The contract between services: vocabularies, event names and payloads, and the
public resource schemas that the gateway publishes as OpenAPI. Services import this
package, never each other."""
