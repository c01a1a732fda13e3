/** The version of the Model Management Account API this service implements (the 2017 contract). */
export const API_VERSION = "2017-09-01-preview";
