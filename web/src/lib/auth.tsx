import { createContext, useContext, useMemo, useState, type ReactNode } from "react";

// The credential lives in sessionStorage only: it ends with the tab, and it is
// never part of the bundle. A JWT signs in a user; anything else is taken as the
// operator's service token (the server decides which it is).
const KEY = "rushgate.token";

export type Session =
  | { kind: "service"; token: string }
  | { kind: "user"; token: string; userId: string };

function sessionOf(token: string | null): Session | null {
  if (!token) return null;
  const sub = jwtSubject(token);
  return sub === null ? { kind: "service", token } : { kind: "user", token, userId: sub };
}

/** The `sub` of a JWT-shaped token (not verified here: the server verifies it), else null. */
export function jwtSubject(token: string): string | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === "string" ? sub : null;
  } catch {
    return null;
  }
}

type AuthValue = { session: Session | null; signIn(token: string): void; signOut(): void };
const AuthContext = createContext<AuthValue>({ session: null, signIn() {}, signOut() {} });

export function AuthProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState(() => sessionStorage.getItem(KEY));
  const value = useMemo<AuthValue>(
    () => ({
      session: sessionOf(token),
      signIn(t) {
        sessionStorage.setItem(KEY, t);
        setToken(t);
      },
      signOut() {
        sessionStorage.removeItem(KEY);
        setToken(null);
      },
    }),
    [token],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export const useAuth = () => useContext(AuthContext);

/** The signed-in session; pages render only inside the signed-in shell. */
export function useSession(): Session {
  const { session } = useAuth();
  if (!session) throw new Error("not signed in");
  return session;
}

export const currentToken = () => sessionStorage.getItem(KEY);
