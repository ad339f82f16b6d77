export { ChorusError, type ChorusErrorParameters, detailLines } from "./chorus-error.ts"
