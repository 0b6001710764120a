/**
 * Printing keys and option values for messages and logs.
 *
 * A key is whatever the user chose, and printing it is never allowed to fail: an object with
 * no prototype (`Object.create(null)`), one whose `toString` or `toJSON` throws, or a
 * circular one must still let an error be built and a load end.
 */

/** The longest text `show` gives; a longer form is cut, with the number of characters left out. */
const LONGEST = 200

/**
 * A printable form of `value` for messages: strings quoted, bigints with their `n`, objects
 * as JSON where they have one, cut to 200 characters. Never throws.
 *
 * @internal
 */
export const show = (value: unknown): string => cut(fullForm(value))

const cut = (text: string): string =>
  text.length <= LONGEST ? text : `${text.slice(0, LONGEST)}… (${text.length - LONGEST} more characters)`

const fullForm = (value: unknown): string => {
  try {
    if (typeof value === "string") return JSON.stringify(value)
    if (typeof value === "bigint") return `${value}n`
    if (typeof value === "symbol") return value.toString()
    if (typeof value !== "object" || value === null) return String(value)
    return JSON.stringify(value) ?? String(value)
  } catch {
    // no JSON form: try the plainer ones below
  }
  try {
    return String(value)
  } catch {
    // no string form either
  }
  try {
    return Object.prototype.toString.call(value)
  } catch {
    return "(a value that cannot be printed)"
  }
}

/**
 * `show`, but a string as it is: the form of a key in log annotations.
 *
 * @internal
 */
export const label = (key: unknown): string => typeof key === "string" && key.length <= LONGEST ? key : show(key)

/**
 * The message of a thrown error, or `show` of any other thrown value. Never throws.
 *
 * @internal
 */
export const showThrown = (thrown: unknown): string => {
  try {
    const message: unknown = thrown instanceof Error ? thrown.message : undefined
    if (typeof message === "string") return cut(message)
  } catch {
    // a message that cannot be read: fall back on the value itself
  }
  return show(thrown)
}
