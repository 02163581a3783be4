import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";
import { ApiError } from "../lib/api";
import type { LinkState } from "../lib/live";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="state loading" role="status">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

export function ErrorBox({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div className="state error" role="alert">
      <strong>{title}</strong>
      <span>
        {e ? `${e.code}${e.status ? ` (${e.status})` : ""}: ${e.message}` : String((error as Error)?.message ?? error)}
      </span>
    </div>
  );
}

export function Card({ title, children, actions, wide }: { title: string; children: ReactNode; actions?: ReactNode; wide?: boolean }) {
  return (
    <section className={wide ? "card wide" : "card"} aria-label={title}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** A labelled input whose error (from the server's field-named message) sits under it. */
export function Field({
  label,
  name,
  error,
  hint,
  ...input
}: InputHTMLAttributes<HTMLInputElement> & { label: string; name: string; error?: string | null; hint?: string }) {
  const id = `f-${name}`;
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-err` : undefined} {...input} />
      {hint && !error && <small>{hint}</small>}
      {error && (
        <small id={`${id}-err`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export function Select({
  label,
  name,
  children,
  ...rest
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; name: string }) {
  const id = `f-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} {...rest}>
        {children}
      </select>
    </div>
  );
}

/** The field a server error names, for forms: `fieldError(err, "name")`. */
export function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError && error.field === field ? error.fieldMessage : null;
}

/** An error not tied to one of the form's fields. */
export function formError(error: unknown, fields: string[]): unknown {
  return error instanceof ApiError && error.field && fields.includes(error.field) ? null : error;
}

const labels: Record<LinkState, string> = {
  connecting: "Connecting",
  connected: "Connected",
  reconnecting: "Reconnecting",
  offline: "Offline",
};

export function Banner({ state, lastMessageAt, now }: { state: LinkState; lastMessageAt: number | null; now: number }) {
  const ago = lastMessageAt === null ? "no message yet" : `last message ${Math.max(0, Math.round((now - lastMessageAt) / 1000))} s ago`;
  return (
    <div className={`banner banner-${state}`} role="status" data-state={state}>
      <span className="dot" aria-hidden="true" />
      <strong>{labels[state]}</strong>
      <span>{ago}</span>
    </div>
  );
}
