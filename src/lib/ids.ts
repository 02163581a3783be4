/**
 * A user id: 1–128 UTF-16 code units of well-formed Unicode, with no control
 * characters. Every check counts length this way (zod's `max` counts code
 * points), so an id accepted on one path is accepted on all of them.
 */
export function isUserId(id: string): boolean {
  return id.length >= 1 && id.length <= 128 && id.isWellFormed() && !/[\u0000-\u001f\u007f]/.test(id);
}
