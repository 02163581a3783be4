/**
 * A user id: 1–128 UTF-16 code units of well-formed Unicode, with no control
 * characters. Every check counts length this way (zod's `max` counts code
 * points), so an id accepted on one path is accepted on all of them.
 */
export function isUserId(id: string): boolean {
  return id.length >= 1 && id.length <= 128 && id.isWellFormed() && !hasControl(id);
}

function hasControl(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
