import { shardOf } from "./hash";

/** How many relay shards there are: fixed per deployment (changing it reorders aggregates in flight). */
export const relayShards = (env: Env) => Number(env.RELAY_SHARDS);

/** Relay shard `n` of `relayShards(env)`. */
export const relayShard = (env: Env, n: number) => env.RELAY.getByName(`relay-${n}`);

/** The relay shard that carries an aggregate's events, so one aggregate stays in order. */
export const relayFor = (env: Env, aggregate: string) => relayShard(env, shardOf(aggregate, relayShards(env)));
