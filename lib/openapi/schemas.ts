/**
 * TypeBox schemas of what the plugin sends, for documentation (the OpenAPI integration uses
 * them) and for applications that describe their own error responses.
 */
import { Type, type Static } from '@sinclair/typebox'

/** Body of every authentication failure: `{"detail":{"error":…,"error_description":…}}`. */
export const AuthErrorBody = Type.Object({
  detail: Type.Object({
    error: Type.String({ description: 'RFC 6750 / RFC 9449 error code, e.g. invalid_token, insufficient_scope' }),
    error_description: Type.String({ description: 'Short human-readable description; never contains a token' })
  }, { additionalProperties: false })
}, { additionalProperties: false, title: 'AuthErrorBody' })

export type AuthErrorBodyType = Static<typeof AuthErrorBody>
